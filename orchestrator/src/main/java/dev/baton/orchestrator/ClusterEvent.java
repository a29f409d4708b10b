package dev.baton.orchestrator;

import dev.baton.registry.NodeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

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
        NODE_REJOINED,
        /**
         * What the wrappers answered to the hold on a primary not proven gone: every registered one acknowledged it,
         * or some did not and their lease is waited out.
         */
        HOLD_ACKNOWLEDGED
    }

    /** Receives events; called on the cluster's supervisor thread, so it must return quickly. */
    @FunctionalInterface
    public interface Listener {
        void on(ClusterEvent event);

        /**
         * After every round of probes by the cluster's leader: each node's state as it is published to ZooKeeper,
         * and how long each node's probe took (a probe that timed out counts as the probe timeout). Called on the
         * supervisor thread, so it must return quickly. Metrics use it; nothing else by default.
         */
        default void observed(String cluster, List<NodeState> states, Map<String, Duration> probeTimes) {}
    }
}
