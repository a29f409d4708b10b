package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.topology.Position;

/**
 * The transactions a MySQL-family server has executed or received, in one of two flavours: MySQL's
 * {@code uuid:1-5:7,uuid2:1-3} sets ({@link MySqlGtidSet}) and MariaDB's per-domain positions
 * {@code 0-1-100,1-2-5} ({@link MariaDbGtidPos}). Immutable and pure; two sets of different flavours are never
 * compared.
 */
sealed interface GtidSet extends Position permits MySqlGtidSet, MariaDbGtidPos {
    boolean isEmpty();

    /** True when every transaction of {@code other} is in this set. */
    boolean contains(GtidSet other);

    /** Every transaction of either set (MariaDB: per domain, the higher sequence number). */
    GtidSet union(GtidSet other);

    /** How many transactions of this set {@code other} lacks (MariaDB: the sum of sequence numbers ahead). */
    long countNotIn(GtidSet other);

    /**
     * How many transactions of this set are errant against {@code primaryLast}, the newest position seen on the
     * old primary: transactions that primary never had and could not have written after it was last seen. Newer
     * transactions of the primary's own stream (MySQL: of a source UUID it had, above its highest number;
     * MariaDB: in a domain, by the server id of its last transaction there) are not errant: a replica receives
     * them between the last probe of the primary and its death.
     */
    long errantAgainst(GtidSet primaryLast);

    /** Orders two sets of one flavour by how many transactions each has that the other lacks. */
    static int compare(GtidSet a, GtidSet b) {
        return Long.signum(a.countNotIn(b) - b.countNotIn(a));
    }

    static void requireSameFlavour(GtidSet a, GtidSet b) {
        if (a.getClass() != b.getClass()) {
            throw new IllegalArgumentException(
                    "cannot compare a " + a.getClass().getSimpleName() + " ('" + a.text() + "') with a "
                            + b.getClass().getSimpleName() + " ('" + b.text() + "')");
        }
    }
}
