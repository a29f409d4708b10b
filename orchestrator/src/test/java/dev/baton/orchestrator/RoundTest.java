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
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every branch of the supervisor's decision, with plain records. */
class RoundTest {
    private static final String ADDRESS = "127.0.0.1:5000";

    private static Round.Input input(Verdict verdict, Topology t, OperationRecord op) {
        return new Round.Input(null, true, verdict, t, "pg1", ADDRESS, op, Set.of(), Set.of(), false, null, false, NOW);
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
        Round.Input in = new Round.Input(
                null,
                false,
                new Verdict.Healthy("pg1"),
                healthy(),
                "pg1",
                ADDRESS,
                null,
                Set.of(),
                Set.of(),
                true,
                null,
                false,
                NOW);
        assertThat(Round.next(in)).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void anOperationLeftBehindIsSettledBeforeAnythingElseEvenAFailover() {
        OperationRecord op =
                OperationRecord.start("failover", "op", "pg1", 1, NOW).promoting("pg2", null);
        Topology t = topology(down("pg1"), primary("pg2", 100), replica("pg3", 100, false));
        Round.Action a = Round.next(input(new Verdict.PrimaryDead("pg1", "dead", null), t, op));
        assertThat(a).isEqualTo(new Round.Action.Settle(op));
    }

    @Test
    void aNodeBeingPromotedIsNeverFencedAsAStalePrimary() {
        OperationRecord op =
                OperationRecord.start("failover", "op", "pg1", 1, NOW).promoting("pg2", null);
        Topology t = topology(primary("pg1", 100), primary("pg2", 100), replica("pg3", 100, true));
        assertThat(Round.next(input(new Verdict.Healthy("pg1"), t, op))).isInstanceOf(Round.Action.Settle.class);
        assertThat(Round.next(input(new Verdict.Healthy("pg1"), t, null)))
                .isEqualTo(new Round.Action.Fence(java.util.List.of("pg2")));
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
        Topology t = topology(fenced, replica("pg2", 1, true));
        assertThat(Round.next(input(new Verdict.Healthy("pg1"), t, null))).isEqualTo(new Round.Action.Settle(null));
    }

    @Test
    void bootstrapsFailsOverAndBacksOff() {
        assertThat(Round.next(input(new Verdict.Bootstrap("pg1"), healthy(), null)))
                .isEqualTo(new Round.Action.Bootstrap("pg1"));
        Verdict dead = new Verdict.PrimaryDead("pg1", "dead", null);
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        assertThat(Round.next(input(dead, t, null))).isEqualTo(new Round.Action.FailOver("pg1"));
        Round.Input backingOff = new Round.Input(
                null, true, dead, t, "pg1", ADDRESS, null, Set.of(), Set.of(), false, NOW.plusSeconds(4), false, NOW);
        assertThat(Round.next(backingOff)).isInstanceOf(Round.Action.Wait.class);
        Round.Input due = new Round.Input(
                null, true, dead, t, "pg1", ADDRESS, null, Set.of(), Set.of(), false, NOW.minusMillis(1), false, NOW);
        assertThat(Round.next(due)).isEqualTo(new Round.Action.FailOver("pg1"));
    }

    @Test
    void aPrimaryThatIsOnlySilentIsSecuredBeforeItIsReplaced() {
        Verdict silent = new Verdict.PrimaryDead("pg1", "silent", null, false);
        Topology t = topology(down("pg1"), replica("pg2", 100, true));
        assertThat(Round.next(input(silent, t, null))).isEqualTo(new Round.Action.SecureUnconfirmed("pg1"));
        Round.Input cleared = new Round.Input(
                null, true, silent, t, "pg1", ADDRESS, null, Set.of(), Set.of(), false, null, true, NOW);
        assertThat(Round.next(cleared)).isEqualTo(new Round.Action.FailOver("pg1"));
    }

    @Test
    void aBlockedDeadPrimaryOnlyWaits() {
        Verdict paused = new Verdict.PrimaryDead("pg1", "dead", "cluster is paused");
        assertThat(Round.next(input(paused, topology(down("pg1"), replica("pg2", 100, false)), null)))
                .isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void switchoverRequestsRunOnlyWhileThePrimaryIsHealthy() {
        Round.Input pending = new Round.Input(
                null,
                true,
                new Verdict.Healthy("pg1"),
                healthy(),
                "pg1",
                ADDRESS,
                null,
                Set.of(),
                Set.of(),
                true,
                null,
                false,
                NOW);
        assertThat(Round.next(pending)).isEqualTo(new Round.Action.Switchover());
        Round.Input suspect = new Round.Input(
                null,
                true,
                new Verdict.PrimarySuspect("pg1", 1, 3),
                healthy(),
                "pg1",
                ADDRESS,
                null,
                Set.of(),
                Set.of(),
                true,
                null,
                false,
                NOW);
        assertThat(Round.next(suspect)).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void aReplicaFollowingAnotherNodeIsRepointedUnlessItNeedsRejoinOrIsBeingRepointed() {
        Topology t = topology(primary("pg1", 100), replicaOf("pg2", ADDRESS), replicaOf("pg3", "127.0.0.1:6000"));
        assertThat(Round.next(input(new Verdict.Healthy("pg1"), t, null)))
                .isEqualTo(new Round.Action.Repoint(java.util.List.of("pg3")));
        Round.Input excluded = new Round.Input(
                null,
                true,
                new Verdict.Healthy("pg1"),
                t,
                "pg1",
                ADDRESS,
                null,
                Set.of("pg3"),
                Set.of(),
                false,
                null,
                false,
                NOW);
        assertThat(Round.next(excluded)).isInstanceOf(Round.Action.Wait.class);
        Round.Input running = new Round.Input(
                null,
                true,
                new Verdict.Healthy("pg1"),
                t,
                "pg1",
                ADDRESS,
                null,
                Set.of(),
                Set.of("pg3"),
                false,
                null,
                false,
                NOW);
        assertThat(Round.next(running)).isInstanceOf(Round.Action.Wait.class);
    }

    @Test
    void aRejectedPrimaryRecordStopsEveryActionFencingFirst() {
        Topology t = topology(primary("pg1", 100), primary("pg2", 100), replica("pg3", 100, true));
        Round.Input in = new Round.Input(
                "the primary record names node 'ghost', which is not a node of cluster orders",
                true,
                new Verdict.Healthy("pg1"),
                t,
                "pg1",
                ADDRESS,
                null,
                Set.of(),
                Set.of(),
                true,
                null,
                false,
                NOW);
        assertThat(Round.next(in)).isInstanceOfSatisfying(Round.Action.Wait.class, w -> assertThat(w.reason())
                .contains("ghost"));
    }

    @Test
    void aHealthyClusterWaits() {
        Topology t = topology(primary("pg1", 100), replicaOf("pg2", ADDRESS), replicaOf("pg3", ADDRESS));
        assertThat(Round.next(input(new Verdict.Healthy("pg1"), t, null)))
                .isEqualTo(new Round.Action.Wait("primary pg1 is healthy"));
        assertThat(Instant.EPOCH).isBefore(NOW);
    }
}
