package dev.baton.registry;

import java.time.Instant;

/**
 * The operation in progress, at {@link RegistryPaths#operation(String)}, written under the cluster lock before a
 * failover or switchover changes anything, rewritten before each irrevocable step, and deleted together with the
 * publication of the new primary (or when the operation ends without one). A new leader that finds one left behind
 * finishes or rolls back what the old leader started.
 *
 * @param toNode the node being promoted, once chosen (null before)
 * @param epoch the epoch of the primary record when the operation started
 * @param phase how far it went: {@link #STARTED} (nothing irrevocable yet), {@link #FENCED} (a switchover made the
 *     old primary read-only), {@link #PROMOTING} ({@code toNode} has been asked to promote: no other node may be
 *     promoted until it is published or confirmed unable to finish)
 * @param forkPosition with {@link #PROMOTING}: the position {@code toNode} had replayed when it was asked to promote,
 *     where its history leaves the old primary's (the new record's {@code forkPosition}), or null
 */
public record OperationRecord(
        String kind,
        String id,
        String fromNode,
        String toNode,
        long epoch,
        Instant startedAt,
        String phase,
        String forkPosition) {
    public static final String STARTED = "started";
    public static final String FENCED = "fenced";
    public static final String PROMOTING = "promoting";

    public OperationRecord {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(id, "id");
        java.util.Objects.requireNonNull(fromNode, "fromNode");
        java.util.Objects.requireNonNull(startedAt, "startedAt");
        phase = phase == null ? STARTED : phase;
    }

    /** A new operation, {@link #STARTED}. */
    public static OperationRecord start(String kind, String id, String fromNode, long epoch, Instant startedAt) {
        return new OperationRecord(kind, id, fromNode, null, epoch, startedAt, STARTED, null);
    }

    /** The same operation, moved on to {@code phase} with {@code toNode} chosen. */
    public OperationRecord at(String phase, String toNode) {
        return new OperationRecord(kind, id, fromNode, toNode, epoch, startedAt, phase, forkPosition);
    }

    /** The same operation, about to ask {@code toNode} to promote after it replayed up to {@code fork}. */
    public OperationRecord promoting(String toNode, String fork) {
        return new OperationRecord(kind, id, fromNode, toNode, epoch, startedAt, PROMOTING, fork);
    }

    /** True once {@code toNode} may have been promoted: a step that cannot be taken back. */
    public boolean promoting() {
        return PROMOTING.equals(phase) && toNode != null;
    }
}
