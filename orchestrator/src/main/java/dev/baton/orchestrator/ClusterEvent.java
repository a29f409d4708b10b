package dev.baton.orchestrator;

import java.time.Instant;

/** Something an operator (or the demo) wants to see happen, as it happens. */
public record ClusterEvent(Instant at, String cluster, Kind kind, String node, String message) {
    public enum Kind {
        LEADING,
        STANDING_BY,
        BOOTSTRAPPED,
        PRIMARY_SUSPECT,
        PRIMARY_DEAD,
        PRIMARY_UNREACHABLE_BUT_REPLICATING,
        FAILOVER_STARTED,
        PROMOTED,
        /** A node was asked to promote and has not finished yet: nothing else is promoted meanwhile. */
        PROMOTION_PENDING,
        PUBLISHED,
        REPOINTED,
        FAILOVER_FINISHED,
        FAILOVER_REFUSED,
        SWITCHOVER_STARTED,
        SWITCHOVER_FINISHED,
        FENCED,
        UNFENCED,
        /** A replica holds history the primary lacks: it is not repointed but needs a rewind (rejoin). */
        REPLICA_DIVERGED,
        /** The primary record in ZooKeeper cannot be trusted: nothing is fenced or promoted because of it. */
        RECORD_REJECTED,
        NODE_REJOINED
    }

    /** Receives events; called on the cluster's supervisor thread, so it must return quickly. */
    @FunctionalInterface
    public interface Listener {
        void on(ClusterEvent event);
    }
}
