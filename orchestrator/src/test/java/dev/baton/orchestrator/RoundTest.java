package dev.baton.orchestrator;

import static dev.baton.orchestrator.Fixtures.NOW;
import static dev.baton.orchestrator.Fixtures.down;
import static dev.baton.orchestrator.Fixtures.primary;
import static dev.baton.orchestrator.Fixtures.replica;
import static dev.baton.orchestrator.Fixtures.topology;
import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.detect.Verdict;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.NodeRole;
import dev.baton.registry.OperationRecord;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every branch of the supervisor's decision, with plain records. */
class RoundTest {
    private static final String ADDRESS = "127.0.0.1:5000";

    /** A round's input, the leader's view by default: set what a test is about, then {@link #next()}. */
    private static final class In {
        String recordProblem;
        boolean mayAct = true;
        final Verdict verdict;
        final Topology topology;
        OperationRecord operation;
        Set<String> excluded = Set.of();
        Set<String> repointing = Set.of();
        boolean requestPending;
        Instant failoverNotBefore;
        boolean unconfirmedCleared;

        In(Verdict verdict, Topology topology) {
            this.verdict = verdict;
            this.topology = topology;
        }

        Round.Action next() {
            return Round.next(new Round.Input(
                    recordProblem,
                    mayAct,
                    verdict,
                    topology,
                    "pg1",
                    ADDRESS,
                    operation,
                    excluded,
                    repointing,
                    requestPending,
                    failoverNotBefore,
                    unconfirmedCleared,
                    NOW));
        }
    }

    private static Topology healthy() {
        return topology(primary("pg1", 100), replica("pg2", 100, true), replica("pg3", 100, true));
    }

    private static NodeObservation replicaOf(String id, String upstream) {
        return new NodeObservation(
                Fixtures.node(id),
                NOW,
                true,
                null,
                null,
                NodeRole.REPLICA,
                1,
                new Fixtures.Pos(1, 90),
                new Fixtures.Pos(1, 90),
                true,
                upstream,
                0,
                true,
                true);
    }

    @Test
    void aStandbyDoesNothing() {
        In in = new In(new Verdict.Healthy("pg1"), healthy());
        in.mayAct = false;
        in.requestPending = true;
        assertThat(in.next()).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void anOperationLeftBehindIsSettledBeforeAnythingElseEvenAFailover() {
        OperationRecord op =
                OperationRecord.start("failover", "op", "pg1", 1, NOW).promoting("pg2", null);
        In in = new In(
                new Verdict.PrimaryDead("pg1", "dead", null),
                topology(down("pg1"), primary("pg2", 100), replica("pg3", 100, false)));
        in.operation = op;
        assertThat(in.next()).isEqualTo(new Round.Action.Settle(op));
    }

    @Test
    void aNodeBeingPromotedIsNeverFencedAsAStalePrimary() {
        OperationRecord op =
                OperationRecord.start("failover", "op", "pg1", 1, NOW).promoting("pg2", null);
        Topology t = topology(primary("pg1", 100), primary("pg2", 100), replica("pg3", 100, true));
        In promoting = new In(new Verdict.Healthy("pg1"), t);
        promoting.operation = op;
        assertThat(promoting.next()).isInstanceOf(Round.Action.Settle.class);
        assertThat(new In(new Verdict.Healthy("pg1"), t).next()).isEqualTo(new Round.Action.Fence(List.of("pg2")));
    }

    @Test
    void aReadOnlyPublishedPrimaryIsSettled() {
        NodeObservation fenced = new NodeObservation(
                Fixtures.node("pg1"),
                NOW,
                true,
                null,
                null,
                NodeRole.PRIMARY,
                1,
                new Fixtures.Pos(1, 1),
                new Fixtures.Pos(1, 1),
                false,
                null,
                0,
                true,
                true);
        In in = new In(new Verdict.Healthy("pg1"), topology(fenced, replica("pg2", 1, true)));
        assertThat(in.next()).isEqualTo(new Round.Action.Settle(null));
    }

    @Test
    void bootstrapsFailsOverAndBacksOff() {
        assertThat(new In(new Verdict.Bootstrap("pg1"), healthy()).next()).isEqualTo(new Round.Action.Bootstrap("pg1"));
        Verdict dead = new Verdict.PrimaryDead("pg1", "dead", null);
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        In cleared = new In(dead, t);
        cleared.unconfirmedCleared = true;
        assertThat(cleared.next()).isEqualTo(new Round.Action.FailOver("pg1"));
        In backingOff = new In(dead, t);
        backingOff.unconfirmedCleared = true;
        backingOff.failoverNotBefore = NOW.plusSeconds(4);
        assertThat(backingOff.next()).isInstanceOf(Round.Action.Wait.class);
        In due = new In(dead, t);
        due.unconfirmedCleared = true;
        due.failoverNotBefore = NOW.minusMillis(1);
        assertThat(due.next()).isEqualTo(new Round.Action.FailOver("pg1"));
    }

    @Test
    void aPrimaryThatRefusesEveryConnectionIsStillSecuredBeforeItIsReplaced() {
        // A rejecting firewall looks exactly like a crash: refused probes, replicas' receivers reset.
        Verdict refused = new Verdict.PrimaryDead("pg1", "refused; replicas lost it", null, true);
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        assertThat(new In(refused, t).next()).isEqualTo(new Round.Action.SecureUnconfirmed("pg1"));
        In cleared = new In(refused, t);
        cleared.unconfirmedCleared = true;
        assertThat(cleared.next()).isEqualTo(new Round.Action.FailOver("pg1"));
    }

    @Test
    void aPrimaryThatIsOnlySilentIsSecuredBeforeItIsReplaced() {
        Verdict silent = new Verdict.PrimaryDead("pg1", "silent", null, false);
        Topology t = topology(down("pg1"), replica("pg2", 100, true));
        assertThat(new In(silent, t).next()).isEqualTo(new Round.Action.SecureUnconfirmed("pg1"));
        In cleared = new In(silent, t);
        cleared.unconfirmedCleared = true;
        assertThat(cleared.next()).isEqualTo(new Round.Action.FailOver("pg1"));
    }

    @Test
    void aBlockedDeadPrimaryOnlyWaits() {
        Verdict paused = new Verdict.PrimaryDead("pg1", "dead", "cluster is paused");
        assertThat(new In(paused, topology(down("pg1"), replica("pg2", 100, false))).next())
                .isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void switchoverRequestsRunOnlyWhileThePrimaryIsHealthy() {
        In pending = new In(new Verdict.Healthy("pg1"), healthy());
        pending.requestPending = true;
        assertThat(pending.next()).isEqualTo(new Round.Action.Switchover());
        In suspect = new In(new Verdict.PrimarySuspect("pg1", 1, 3), healthy());
        suspect.requestPending = true;
        assertThat(suspect.next()).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void aReplicaFollowingAnotherNodeIsRepointedEvenWhenItNeedsRejoinUnlessItIsBeingRepointed() {
        Topology t = topology(primary("pg1", 100), replicaOf("pg2", ADDRESS), replicaOf("pg3", "127.0.0.1:6000"));
        assertThat(new In(new Verdict.Healthy("pg1"), t).next()).isEqualTo(new Round.Action.Repoint(List.of("pg3")));
        In excluded = new In(new Verdict.Healthy("pg1"), t);
        excluded.excluded = Set.of("pg3");
        assertThat(excluded.next())
                .as("a replica needing rejoin left on another node is still repaired (repoint or rejoin)")
                .isEqualTo(new Round.Action.Repoint(List.of("pg3")));
        In running = new In(new Verdict.Healthy("pg1"), t);
        running.repointing = Set.of("pg3");
        assertThat(running.next()).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void aRejectedPrimaryRecordStopsEveryActionFencingFirst() {
        In in = new In(
                new Verdict.Healthy("pg1"),
                topology(primary("pg1", 100), primary("pg2", 100), replica("pg3", 100, true)));
        in.recordProblem = "the primary record names node 'ghost', which is not a node of cluster orders";
        in.requestPending = true;
        assertThat(in.next()).isInstanceOfSatisfying(Round.Action.Wait.class, w -> assertThat(w.reason())
                .contains("ghost"));
    }

    @Test
    void aHealthyClusterWaits() {
        Topology t = topology(primary("pg1", 100), replicaOf("pg2", ADDRESS), replicaOf("pg3", ADDRESS));
        assertThat(new In(new Verdict.Healthy("pg1"), t).next())
                .isEqualTo(new Round.Action.Wait("primary pg1 is healthy"));
    }
}
