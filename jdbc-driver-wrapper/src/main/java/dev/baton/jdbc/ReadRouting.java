package dev.baton.jdbc;

import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Which replicas a read-only {@link FailoverDataSource} may use: the limits of its published lag and how old a
 * published node state may be. {@link #eligible} is a pure function of the node states the orchestrator published.
 *
 * @param everyConnection a read-only data source: every connection is routed; else only connections the
 *     application made read-only with {@code setReadOnly(true)}
 * @param maxLagBytes a replica whose published {@code lagBytes} is above this is skipped (PostgreSQL: bytes of WAL;
 *     MariaDB/MySQL: transactions)
 * @param maxLag a replica whose published {@code lagSeconds} is above this is skipped
 * @param maxStateAge a node state last seen longer ago than this is not trusted (the orchestrator stopped
 *     publishing): its replica is skipped
 */
record ReadRouting(
        boolean everyConnection, long maxLagBytes, Duration maxLag, Duration maxStateAge, ReplicaBalance balance) {
    static final long DEFAULT_MAX_LAG_BYTES = 16L * 1024 * 1024;
    static final Duration DEFAULT_MAX_LAG = Duration.ofSeconds(10);
    static final Duration DEFAULT_MAX_STATE_AGE = Duration.ofSeconds(10);

    ReadRouting {
        if (maxLagBytes < 0) {
            throw new IllegalArgumentException("maxReplicaLagBytes: " + maxLagBytes + " must not be negative");
        }
        if (maxLag == null || maxLag.isNegative()) {
            throw new IllegalArgumentException("maxReplicaLag: " + maxLag + " must not be negative");
        }
        if (maxStateAge == null || maxStateAge.isNegative() || maxStateAge.isZero()) {
            throw new IllegalArgumentException("maxReplicaStateAge: " + maxStateAge + " must be positive");
        }
        if (balance == null) {
            throw new IllegalArgumentException("replicaBalance: must not be null");
        }
    }

    /**
     * The replicas a connection may go to, in the order to try them: reachable, streaming replicas (not the primary
     * {@code primaryNodeId}, not fenced, not waiting for a rejoin) whose lag is known and under both limits, observed
     * at most {@link #maxStateAge} before {@code now}. Least lag first for {@link ReplicaBalance#LEAST_LAG}, else by
     * node id.
     */
    List<NodeState> eligible(Collection<NodeState> states, String primaryNodeId, Instant now) {
        Comparator<NodeState> order = balance == ReplicaBalance.LEAST_LAG
                ? Comparator.comparingLong(NodeState::lagBytes)
                        .thenComparingDouble(NodeState::lagSeconds)
                        .thenComparing(NodeState::nodeId)
                : Comparator.comparing(NodeState::nodeId);
        return states.stream()
                .filter(s -> qualifies(s, primaryNodeId, now))
                .sorted(order)
                .toList();
    }

    boolean qualifies(NodeState s, String primaryNodeId, Instant now) {
        return s.reachable()
                && s.role() == NodeRole.REPLICA
                && s.streaming()
                && !s.fenced()
                && !s.needsRejoin()
                && !s.nodeId().equals(primaryNodeId)
                && s.host() != null
                && s.lagBytes() >= 0
                && s.lagBytes() <= maxLagBytes
                && s.lagSeconds() >= 0
                && s.lagSeconds() <= maxLag.toMillis() / 1000.0
                && s.lastSeen() != null
                && !s.lastSeen().plus(maxStateAge).isBefore(now);
    }
}
