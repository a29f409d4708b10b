package dev.baton.orchestrator.topology;

/**
 * A replication position in a dialect's own terms (a PostgreSQL timeline and LSN, a GTID set). Only the
 * dialect that produced two positions can compare them.
 */
public interface Position {
    /** The position as the database prints it. */
    String text();
}
