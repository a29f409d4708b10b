package dev.baton.orchestrator;

import dev.baton.orchestrator.detect.Detector;
import dev.baton.orchestrator.detect.Verdict;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.OperationRecord;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * One supervision round as a pure decision: {@code (verdict, topology, record, operation, what the leader knows) →
 * Action}. The supervisor gathers the input, executes the action and feeds the results into the next round; every
 * branch is unit-tested with plain records.
 */
final class Round {
    private Round() {}

    /**
     * What a round decides from.
     *
     * @param mayAct this instance leads and its ZooKeeper connection is up
     * @param verdict the detector's verdict on this round's topology
     * @param published the node of the primary record, or null
     * @param publishedAddress its host:port, or null
     * @param operation the operation record found in ZooKeeper, or null
     * @param excluded nodes that need a rejoin (never promoted; repointed only when they can follow the primary)
     * @param repointing nodes with a repoint or rejoin running in the background
     * @param requestPending a switchover request waits in ZooKeeper
     * @param failoverNotBefore a failover that did not succeed is retried only from then (backoff), or null
     * @param recordProblem why the primary record cannot be trusted (see RecordCheck), or null
     * @param unconfirmedCleared the dead primary may be replaced: its agent reports that no process of its server
     *     runs, the fence command succeeded, every registered wrapper (and agent) acknowledged the hold, or the lease
     *     of those that did not ran out since the hold
     */
    record Input(
            String recordProblem,
            boolean mayAct,
            Verdict verdict,
            Topology topology,
            String published,
            String publishedAddress,
            OperationRecord operation,
            Set<String> excluded,
            Set<String> repointing,
            boolean requestPending,
            Instant failoverNotBefore,
            boolean unconfirmedCleared,
            Instant now) {}

    /** What the supervisor does this round. */
    sealed interface Action {
        /** Nothing to change; {@code reason} says why. */
        record Wait(String reason) implements Action {}

        /** Publish the only writable primary as the first record (epoch 1). */
        record Bootstrap(String node) implements Action {}

        /**
         * An operation record was left behind (or a promotion is still pending), or the published primary was left
         * read-only ({@code operation} null): settle it before anything else.
         */
        record Settle(OperationRecord operation) implements Action {}

        /** The published primary is dead and nothing forbids acting. */
        record FailOver(String dead) implements Action {}

        /**
         * The published primary looks dead but that is not proven: it may still commit for clients cut off with it.
         * Fence it with the fence command, or hold the wrappers and wait for their acknowledgements or their lease,
         * before failing over.
         */
        record SecureUnconfirmed(String primary) implements Action {}

        /** Writable primaries other than the published one: fence them. */
        record Fence(List<String> nodes) implements Action {}

        /** Carry out the oldest switchover request. */
        record Switchover() implements Action {}

        /** Replicas that stream from elsewhere than the published primary: repoint them (or find them diverged). */
        record Repoint(List<String> nodes) implements Action {}
    }

    static Action next(Input in) {
        if (!in.mayAct()) {
            return new Action.Wait("not the leader, or ZooKeeper is not connected");
        }
        if (in.recordProblem() != null) {
            return new Action.Wait("primary record rejected: " + in.recordProblem());
        }
        if (in.operation() != null) {
            return new Action.Settle(in.operation());
        }
        if (in.published() != null
                && in.topology()
                        .node(in.published())
                        .filter(n -> n.isPrimary() && n.readOnly())
                        .isPresent()) {
            return new Action.Settle(null);
        }
        if (in.verdict() instanceof Verdict.Bootstrap b) {
            return new Action.Bootstrap(b.primary());
        }
        if (in.verdict() instanceof Verdict.PrimaryDead dead && dead.actionable()) {
            if (in.failoverNotBefore() != null && in.now().isBefore(in.failoverNotBefore())) {
                return new Action.Wait(dead.describe() + "; the last failover attempt did not succeed: retrying at "
                        + in.failoverNotBefore());
            }
            // Even a primary that refuses every connection is not proven gone: a firewall that rejects looks the same
            // (DESIGN rule 10). Replace it only once no wrapper can still commit there.
            if (!in.unconfirmedCleared()) {
                return new Action.SecureUnconfirmed(dead.primary());
            }
            return new Action.FailOver(dead.primary());
        }
        List<String> fence = Detector.toFence(in.topology(), in.published());
        if (!fence.isEmpty()) {
            return new Action.Fence(fence);
        }
        boolean primaryHealthy = in.verdict() instanceof Verdict.Healthy;
        if (in.requestPending() && primaryHealthy) {
            return new Action.Switchover();
        }
        if (primaryHealthy) {
            // A replica that needs rejoin is a stray too: repointed when it can follow, rejoined when it cannot
            // (the supervisor checks), so that it is never left on a dead or old primary.
            List<String> strays = Detector.strays(in.topology(), in.published(), in.publishedAddress()).stream()
                    .filter(id -> !in.repointing().contains(id))
                    .toList();
            if (!strays.isEmpty()) {
                return new Action.Repoint(strays);
            }
        }
        return new Action.Wait(in.verdict().describe());
    }
}
