package dev.baton.orchestrator.topology;

/** How a dialect orders its positions; the pure decisions need nothing else from it. */
public interface PositionOrder {
    /** Negative, zero or positive as {@code a} is behind, equal to or ahead of {@code b}. */
    int compare(Position a, Position b);

    /**
     * How far {@code behind} is behind {@code ahead} (bytes for PostgreSQL, transactions for the MySQL family);
     * 0 when it is not behind, -1 when the two cannot be compared (different timelines or histories).
     */
    long distance(Position ahead, Position behind);
}
