package dev.baton.registry;

import java.time.Instant;

/**
 * The orchestrator's last observation of one node, as published at {@link RegistryPaths#node(String,
 * String)}.
 *
 * @param position primary: its current write position; replica: the position it has received (a PostgreSQL
 *     LSN with its timeline, a GTID set), or null
 * @param applied replica: the position it has replayed / executed; primary: same as {@code position}
 * @param lagBytes how far the applied position is behind the primary's (bytes for PostgreSQL, transactions for the
 *     MySQL family), or -1 if unknown
 * @param lagSeconds replay delay in seconds, or -1 if unknown
 * @param upstream the host:port the node replicates from, or null
 * @param streaming true when a replica's receiver (WAL receiver, IO thread) is connected to its upstream
 * @param fenced true when Baton made this node read-only because another node holds a newer epoch
 * @param needsRejoin true when this node was primary in an older epoch and must be rebuilt or rejoined by an
 *     operator before it can serve again; Baton never publishes it as primary on its own
 * @param error the last probe error (never contains a password), or null
 * @param advice server settings that, changed, would make Baton faster on this node (each names the setting, its
 *     value, the recommended one and why); Baton itself never changes them. Null or empty when there is none
 */
public record NodeState(
        String nodeId,
        String host,
        int port,
        boolean reachable,
        NodeRole role,
        long timeline,
        String position,
        String applied,
        long lagBytes,
        double lagSeconds,
        String upstream,
        boolean streaming,
        boolean fenced,
        boolean needsRejoin,
        String error,
        Instant lastSeen,
        java.util.List<String> advice) {
    public NodeState {
        java.util.Objects.requireNonNull(nodeId, "nodeId");
        java.util.Objects.requireNonNull(role, "role");
    }
}
