package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.select.CandidateSelector;
import dev.baton.orchestrator.select.Selection;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.PositionOrder;
import dev.baton.orchestrator.topology.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The preflight of a planned switchover, as a pure function: is the primary healthy, is the target a healthy,
 * streaming replica within the lag limit, and which node would be promoted. Every check leaves a verdict line,
 * so that a dry run can show them all.
 */
public final class SwitchoverPlanner {
    private SwitchoverPlanner() {}

    /** The outcome: {@code refusal} is null when the switchover may go ahead. */
    public record Plan(String from, String to, long lag, List<String> verdicts, String refusal) {
        public boolean approved() {
            return refusal == null;
        }
    }

    public static Plan plan(
            ClusterConfig cluster,
            PositionOrder order,
            Topology topology,
            String primary,
            Set<String> needsRejoin,
            String operationInProgress,
            String target) {
        List<String> verdicts = new ArrayList<>();
        if (operationInProgress != null) {
            return refuse(primary, target, verdicts, "another operation is in progress: " + operationInProgress);
        }
        verdicts.add("ok: no other operation in progress");
        if (primary == null) {
            return refuse(null, target, verdicts, "no primary is published for cluster " + cluster.name());
        }
        if (target != null && cluster.node(target).isEmpty()) {
            return refuse(
                    primary,
                    target,
                    verdicts,
                    "target " + target + " is not a node of cluster " + cluster.name() + " (nodes: "
                            + cluster.nodes().stream().map(n -> n.id()).toList() + ")");
        }
        if (primary.equals(target)) {
            return refuse(primary, target, verdicts, "target " + target + " is the primary already");
        }
        Optional<NodeObservation> old = topology.node(primary);
        if (old.isEmpty() || !old.get().isPrimary() || old.get().readOnly()) {
            String seen = old.map(o -> o.reachable()
                            ? (o.readOnly() ? "read-only" : o.role().name().toLowerCase())
                            : "unreachable: " + o.error())
                    .orElse("not observed");
            return refuse(
                    primary,
                    target,
                    verdicts,
                    "primary " + primary + " is not a healthy writable primary (" + seen + "); use failover instead");
        }
        verdicts.add("ok: primary " + primary + " is reachable and writable");
        Selection selection = new CandidateSelector(order)
                .select(
                        topology,
                        union(needsRejoin, primary),
                        old.get().received(),
                        cluster.maxLagOnFailover(),
                        false,
                        target);
        if (target != null) {
            for (Selection.Rejection r : selection.rejected()) {
                if (r.node().equals(target)) {
                    return refuse(primary, target, verdicts, "target " + target + " cannot be promoted: " + r.reason());
                }
            }
            if (needsRejoin.contains(target)) {
                return refuse(
                        primary, target, verdicts, "target " + target + " needs rejoin after an earlier failover");
            }
        }
        List<NodeObservation> streaming =
                selection.ranked().stream().filter(NodeObservation::streaming).toList();
        if (streaming.isEmpty()) {
            return refuse(
                    primary,
                    target,
                    verdicts,
                    target != null
                            ? "target " + target + " is not streaming from " + primary
                            : "no healthy streaming replica to switch over to: " + selection.explain());
        }
        NodeObservation chosen = streaming.get(0);
        long lag = order.distance(old.get().received(), chosen.applied());
        if (lag < 0 || lag > cluster.maxLagOnFailover()) {
            return refuse(
                    primary,
                    chosen.id(),
                    verdicts,
                    "target " + chosen.id() + " is " + (lag < 0 ? "on another timeline" : lag + " behind")
                            + " the primary, more than maxLagOnFailover " + cluster.maxLagOnFailover());
        }
        verdicts.add("ok: target " + chosen.id() + " is a healthy streaming replica, " + lag + " behind (limit "
                + cluster.maxLagOnFailover() + ")");
        return new Plan(primary, chosen.id(), lag, verdicts, null);
    }

    private static Plan refuse(String from, String to, List<String> verdicts, String reason) {
        verdicts.add("refused: " + reason);
        return new Plan(from, to, -1, verdicts, reason);
    }

    private static Set<String> union(Set<String> set, String one) {
        java.util.HashSet<String> all = new java.util.HashSet<>(set);
        all.add(one);
        return all;
    }
}
