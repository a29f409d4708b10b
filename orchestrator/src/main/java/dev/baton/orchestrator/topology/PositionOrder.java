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

    /**
     * How many transactions {@code candidateApplied} holds that the old primary, last seen at {@code primaryLast},
     * never had and could not have sent it since (errant GTIDs of the MySQL family): promoting such a candidate
     * would publish writes no client made through the primary. 0 for families without them.
     */
    default long errantCount(Position candidateApplied, Position primaryLast) {
        return 0;
    }

    /** What {@link #distance} counts: "bytes" (PostgreSQL WAL) or "transactions" (GTIDs). */
    default String distanceUnit() {
        return "bytes";
    }
}
