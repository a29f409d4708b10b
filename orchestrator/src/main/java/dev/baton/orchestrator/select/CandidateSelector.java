package dev.baton.orchestrator.select;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.PositionOrder;
import dev.baton.orchestrator.topology.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Pure ranking of promotion candidates: reachable, healthy replicas that are allowed to fail over, most
 * advanced received position first (timeline, then LSN / GTIDs), then higher priority, then node id for a stable
 * order. The best candidate is refused when it is more than {@code maxLag} behind the last position seen on the
 * old primary, unless the failover is forced. A candidate with errant transactions (GTIDs the old primary never
 * had) is rejected, and promoted only when no clean candidate exists and errant promotion is allowed.
 */
public final class CandidateSelector {
    private final PositionOrder order;

    public CandidateSelector(PositionOrder order) {
        this.order = order;
    }

    /**
     * @param excluded the old primary and nodes that must not be promoted (needing rejoin)
     * @param lastPrimaryPosition the newest position seen on the old primary, or null when never seen
     * @param target a node the operator asked for, or null to take the best
     */
    public Selection select(
            Topology topology,
            Set<String> excluded,
            Position lastPrimaryPosition,
            long maxLag,
            boolean force,
            String target) {
        return select(topology, excluded, lastPrimaryPosition, maxLag, force, target, false);
    }

    /**
     * Like {@link #select(Topology, Set, Position, long, boolean, String)}; with {@code allowErrant} a candidate
     * with errant transactions is promoted when no clean candidate exists.
     */
    public Selection select(
            Topology topology,
            Set<String> excluded,
            Position lastPrimaryPosition,
            long maxLag,
            boolean force,
            String target,
            boolean allowErrant) {
        List<NodeObservation> eligible = new ArrayList<>();
        List<Selection.Rejection> rejected = new ArrayList<>();
        for (NodeObservation n : topology.nodes()) {
            String reason = ineligibility(n, excluded, target);
            if (reason == null) {
                eligible.add(n);
            } else if (!excluded.contains(n.id()) || target != null && target.equals(n.id())) {
                rejected.add(new Selection.Rejection(n.id(), reason));
            }
        }
        eligible = withoutErrant(eligible, lastPrimaryPosition, allowErrant, rejected);
        eligible.sort(ranking());
        if (eligible.isEmpty()) {
            return new Selection(List.of(), rejected, -1, null);
        }
        NodeObservation best = eligible.get(0);
        long loss = lastPrimaryPosition == null ? -1 : order.distance(lastPrimaryPosition, best.received());
        String refusal = null;
        if (!force) {
            if (loss < 0 && lastPrimaryPosition != null) {
                refusal = best.id() + " is on another timeline or history than the old primary's last position "
                        + lastPrimaryPosition.text() + "; data loss cannot be estimated";
            } else if (loss > maxLag) {
                refusal = best.id() + " (the most advanced candidate) is " + loss + " behind the old primary's last"
                        + " position " + lastPrimaryPosition.text() + ", more than maxLagOnFailover " + maxLag;
            }
        }
        return new Selection(List.copyOf(eligible), rejected, loss, refusal);
    }

    /**
     * The clean candidates, or when there are none and {@code allowErrant}, the errant ones. Every candidate left
     * out is added to {@code rejected} with its errant count.
     */
    private List<NodeObservation> withoutErrant(
            List<NodeObservation> eligible,
            Position lastPrimaryPosition,
            boolean allowErrant,
            List<Selection.Rejection> rejected) {
        if (lastPrimaryPosition == null) {
            return eligible;
        }
        List<NodeObservation> clean = new ArrayList<>();
        List<NodeObservation> errant = new ArrayList<>();
        List<Selection.Rejection> reasons = new ArrayList<>();
        for (NodeObservation n : eligible) {
            long count = n.applied() == null ? 0 : order.errantCount(n.applied(), lastPrimaryPosition);
            if (count > 0) {
                errant.add(n);
                reasons.add(new Selection.Rejection(
                        n.id(),
                        "has " + count + " errant transaction(s) the old primary never had (its last position "
                                + lastPrimaryPosition.text() + ", " + n.id() + " applied "
                                + n.applied().text()
                                + ")" + (allowErrant ? "" : "; allowErrantPromotion is off")));
            } else {
                clean.add(n);
            }
        }
        if (clean.isEmpty() && allowErrant) {
            return errant;
        }
        rejected.addAll(reasons);
        return clean;
    }

    private static String ineligibility(NodeObservation n, Set<String> excluded, String target) {
        NodeConfig node = n.node();
        if (target != null && !target.equals(n.id())) {
            return "not the requested target";
        }
        if (excluded.contains(n.id())) {
            return "old primary or needs rejoin";
        }
        if (!n.reachable()) {
            return "unreachable (" + n.error() + ")";
        }
        if (!n.isReplica()) {
            return "not a replica";
        }
        if (!n.replicaHealthy()) {
            return "replica cannot apply changes (" + (n.error() == null ? "replication error" : n.error()) + ")";
        }
        if (node.noFailover()) {
            return "noFailover is set";
        }
        if (n.received() == null) {
            return "has no replication position";
        }
        return null;
    }

    private Comparator<NodeObservation> ranking() {
        Comparator<NodeObservation> byReceived = (a, b) -> order.compare(b.received(), a.received());
        Comparator<NodeObservation> byApplied =
                (a, b) -> a.applied() == null || b.applied() == null ? 0 : order.compare(b.applied(), a.applied());
        return byReceived
                .thenComparing(byApplied)
                .thenComparing(
                        (a, b) -> Integer.compare(b.node().priority(), a.node().priority()))
                .thenComparing(NodeObservation::id);
    }
}
