package dev.baton.registry;

/** What a database node is, as last observed by the orchestrator. */
public enum NodeRole {
    PRIMARY,
    REPLICA,
    /** Not reachable, or not answering: its role is not known. */
    UNKNOWN
}
