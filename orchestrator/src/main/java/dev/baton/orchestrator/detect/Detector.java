package dev.baton.orchestrator.detect;

import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Pure decisions over a topology snapshot. A primary is dead only when the orchestrator failed enough
 * consecutive probes of it <b>and</b> every reachable replica that follows it confirms the loss: its receiver (WAL
 * receiver, IO thread) is down, or it has received nothing for the silence window although connected (a hung or
 * isolated primary). Replicas that replicate from elsewhere are no evidence either way. The primary's agent reporting
 * that no process of the server runs is proof on its own, once the orchestrator cannot reach it either.
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
        if (in.proofOfDeath() != null) {
            // Seen on its host, not inferred: the agent watched the process go and killed what it left behind. A
            // firewall that rejects cannot fake this, and the replicas have nothing to add.
            return new Verdict.PrimaryDead(primary, "not reachable, and " + in.proofOfDeath(), blocker(in), true);
        }
        if (in.primaryFailures() < in.failureThreshold()) {
            return new Verdict.PrimarySuspect(primary, in.primaryFailures(), in.failureThreshold());
        }
        List<NodeObservation> followers = topology.nodes().stream()
                .filter(n -> !n.id().equals(primary))
                .filter(NodeObservation::isReplica)
                .filter(n -> follows(n, in.publishedAddress()))
                .toList();
        if (followers.isEmpty()) {
            return new Verdict.PrimaryUnconfirmed(primary, "no reachable replica follows it to confirm it");
        }
        List<String> live = new ArrayList<>();
        List<String> lost = new ArrayList<>();
        List<String> silent = new ArrayList<>();
        for (NodeObservation f : followers) {
            if (!f.streaming()) {
                lost.add(f.id());
            } else if (quietFor(f, in).compareTo(in.silence()) >= 0) {
                silent.add(f.id() + " (nothing received for " + quietFor(f, in).toMillis() + " ms)");
            } else {
                live.add(f.id());
            }
        }
        if (!live.isEmpty()) {
            return new Verdict.PrimaryUnreachableButReplicating(primary, live);
        }
        StringBuilder evidence = new StringBuilder(in.primaryFailures() + " failed probes; ");
        if (!lost.isEmpty()) {
            evidence.append(lost.size()).append(" reachable replica(s) lost their upstream");
        }
        if (!silent.isEmpty()) {
            evidence.append(lost.isEmpty() ? "" : "; ")
                    .append("receiving nothing although connected: ")
                    .append(String.join(", ", silent));
        }
        // Gone for sure only when it refused or closed every connection: its probe failed with a connection error (not
        // a
        // timeout) and no follower is merely silent.
        boolean refused = observed == null || observed.failure() != FailureKind.TIMEOUT;
        boolean confirmed = refused && silent.isEmpty();
        if (!confirmed) {
            evidence.append("; unconfirmed: ").append(refused ? "replicas are only silent" : "probes time out");
        }
        return new Verdict.PrimaryDead(primary, evidence.toString(), blocker(in), confirmed);
    }

    /**
     * How long the published primary has looked silent: its last probe timed out (not refused), and every reachable
     * follower has received nothing (or lost its upstream) for this long, counted from the primary's last answer.
     * Null when it does not look silent. The supervisor holds the wrappers early on it, so that their lease runs out
     * while the silence is being confirmed rather than after.
     */
    public static Duration silentFor(DetectionInput in) {
        if (in.publishedPrimary() == null || in.primaryFailures() < 1) {
            return null;
        }
        NodeObservation observed = in.topology().node(in.publishedPrimary()).orElse(null);
        if (observed == null || observed.reachable() || observed.failure() != FailureKind.TIMEOUT) {
            return null;
        }
        Duration shortest = null;
        for (NodeObservation f : in.topology().nodes()) {
            if (f.id().equals(in.publishedPrimary()) || !f.isReplica() || !follows(f, in.publishedAddress())) {
                continue;
            }
            if (f.streaming()) {
                Duration quiet = quietFor(f, in);
                shortest = shortest == null || quiet.compareTo(shortest) < 0 ? quiet : shortest;
            }
        }
        if (shortest == null && in.primaryLastContact() != null) {
            shortest = Duration.between(in.primaryLastContact(), in.now());
        }
        return shortest;
    }

    /** How long {@code f} has received nothing new, counted from no earlier than the primary's last answer. */
    private static Duration quietFor(NodeObservation f, DetectionInput in) {
        Instant since = in.lastProgress().get(f.id());
        if (in.primaryLastContact() != null
                && (since == null || in.primaryLastContact().isAfter(since))) {
            since = in.primaryLastContact();
        }
        return since == null ? Duration.ZERO : Duration.between(since, in.now());
    }

    /**
     * Whether {@code replica} replicates from {@code address} (host:port, hosts compared without case). A replica
     * whose source is unknown counts as following; with no address, every replica does.
     */
    public static boolean follows(NodeObservation replica, String address) {
        return address == null
                || replica.upstream() == null
                || replica.upstream().equalsIgnoreCase(address);
    }

    /**
     * Reachable replicas (other than {@code published}) that replicate from somewhere else than the published
     * primary: a repoint that failed, or a switchover that did not reach them. They are repointed, and never count
     * as evidence about the primary.
     */
    public static List<String> strays(Topology topology, String published, String address) {
        if (published == null || address == null) {
            return List.of();
        }
        return topology.nodes().stream()
                .filter(NodeObservation::isReplica)
                .filter(n -> !n.id().equals(published))
                .filter(n -> n.upstream() != null && !follows(n, address))
                .map(NodeObservation::id)
                .toList();
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
