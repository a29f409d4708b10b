package dev.baton.orchestrator.topology;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.registry.NodeRole;
import java.time.Instant;

/**
 * What one probe saw of one node.
 *
 * @param received primary: its current write position; replica: the last position it received
 * @param applied primary: same as received; replica: the last position it replayed
 * @param streaming replica: its receiver (WAL receiver, IO thread) is connected to its upstream
 * @param upstream replica: host:port its receiver is connected to, or null
 * @param readOnly the node refuses writes (a fenced primary, or any replica)
 * @param replicaHealthy replica: false when it cannot apply (MySQL SQL thread stopped with an error)
 */
public record NodeObservation(
        NodeConfig node,
        Instant at,
        boolean reachable,
        FailureKind failure,
        String error,
        NodeRole role,
        long timeline,
        Position received,
        Position applied,
        boolean streaming,
        String upstream,
        double replayDelaySeconds,
        boolean readOnly,
        boolean replicaHealthy) {

    public static NodeObservation unreachable(NodeConfig node, Instant at, FailureKind failure, String error) {
        return new NodeObservation(
                node, at, false, failure, error, NodeRole.UNKNOWN, 0, null, null, false, null, -1, false, false);
    }

    public String id() {
        return node.id();
    }

    public boolean isPrimary() {
        return reachable && role == NodeRole.PRIMARY;
    }

    public boolean isReplica() {
        return reachable && role == NodeRole.REPLICA;
    }
}
