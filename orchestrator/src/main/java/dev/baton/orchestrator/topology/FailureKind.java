package dev.baton.orchestrator.topology;

/** Why a probe failed, classified from SQLState in one place ({@code SqlFailures}). */
public enum FailureKind {
    /** Connection refused, reset or broken (SQLState class 08). */
    CONNECTION,
    /** No answer within the probe timeout: a hung server or a partition. */
    TIMEOUT,
    /** The server is shutting down or starting up (57P0x). */
    SHUTDOWN,
    /** Wrong user or password (class 28, MySQL 1045): the node is probably fine, the configuration is not. */
    AUTHENTICATION,
    OTHER
}
