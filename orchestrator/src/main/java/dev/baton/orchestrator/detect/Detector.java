package dev.baton.orchestrator.detect;

import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import java.time.Duration;
import java.util.List;

/**
 * Pure decisions over a topology snapshot. A primary is dead only when the orchestrator failed enough
 * consecutive probes of it <b>and</b> every reachable replica has lost its upstream (no WAL receiver / IO
 * thread streaming). The topology is assumed flat: every replica replicates from the primary.
 */
public final class Detector {
    private Detector() {}

    public static Verdict decide(DetectionInput in) {
        Topology topology = in.topology();
        if (in.publishedPrimary() == null) {
            List<String> primaries = topology.nodes().stream()
                    .filter(NodeObservation::isPrimary)
                    .filter(n -> !n.readOnly())
                    .map(NodeObservation::id)
                    .toList();
            if (primaries.size() == 1) {
                return new Verdict.Bootstrap(primaries.get(0));
            }
            return new Verdict.Ambiguous(
                    primaries.isEmpty()
                            ? "no primary published and no writable primary found"
                            : "no primary published and several writable primaries found: "
                                    + String.join(", ", primaries));
        }
        String primary = in.publishedPrimary();
        NodeObservation observed = topology.node(primary).orElse(null);
        if (observed != null && observed.reachable()) {
            return observed.isPrimary() ? new Verdict.Healthy(primary) : new Verdict.PrimaryNotWritable(primary);
        }
        if (in.primaryFailures() < in.failureThreshold()) {
            return new Verdict.PrimarySuspect(primary, in.primaryFailures(), in.failureThreshold());
        }
        List<NodeObservation> replicas = topology.nodes().stream()
                .filter(n -> !n.id().equals(primary))
                .filter(NodeObservation::isReplica)
                .toList();
        if (replicas.isEmpty()) {
            return new Verdict.PrimaryUnconfirmed(primary, "no replica is reachable to confirm it");
        }
        List<String> streaming = replicas.stream()
                .filter(NodeObservation::streaming)
                .map(NodeObservation::id)
                .toList();
        if (!streaming.isEmpty()) {
            return new Verdict.PrimaryUnreachableButReplicating(primary, streaming);
        }
        String evidence = in.primaryFailures() + " failed probes; " + replicas.size()
                + " reachable replica(s) lost their upstream";
        return new Verdict.PrimaryDead(primary, evidence, blocker(in));
    }

    private static String blocker(DetectionInput in) {
        if (in.paused()) {
            return "cluster is paused";
        }
        if (!in.zooKeeperConnected()) {
            return "no ZooKeeper quorum";
        }
        if (in.lastFailover() != null) {
            Duration since = Duration.between(in.lastFailover(), in.now());
            if (since.compareTo(in.antiFlapWindow()) < 0) {
                return "last failover was " + since.toMillis() + " ms ago, within the anti-flap window of "
                        + in.antiFlapWindow().toMillis() + " ms";
            }
        }
        return null;
    }

    /**
     * Nodes that run as writable primaries although another node holds the published epoch: they must be fenced.
     */
    public static List<String> toFence(Topology topology, String publishedPrimary) {
        if (publishedPrimary == null) {
            return List.of();
        }
        return topology.nodes().stream()
                .filter(NodeObservation::isPrimary)
                .filter(n -> !n.readOnly())
                .map(NodeObservation::id)
                .filter(id -> !id.equals(publishedPrimary))
                .toList();
    }

    /** Whether a failed probe counts towards declaring a node dead: a rejected password means the node is up. */
    public static boolean countsAsDown(NodeObservation observation) {
        return !observation.reachable() && observation.failure() != FailureKind.AUTHENTICATION;
    }
}
