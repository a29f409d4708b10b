package dev.baton.orchestrator.detect;

import static dev.baton.orchestrator.Fixtures.NOW;
import static dev.baton.orchestrator.Fixtures.down;
import static dev.baton.orchestrator.Fixtures.primary;
import static dev.baton.orchestrator.Fixtures.replica;
import static dev.baton.orchestrator.Fixtures.topology;
import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.Fixtures;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DetectorTest {
    private static DetectionInput input(Topology t, int failures) {
        return new DetectionInput(t, "pg1", failures, 3, false, true, null, Duration.ofSeconds(30), NOW);
    }

    @Test
    void reachablePrimaryIsHealthy() {
        Verdict v = Detector.decide(input(topology(primary("pg1", 100), replica("pg2", 100, true)), 0));
        assertThat(v).isEqualTo(new Verdict.Healthy("pg1"));
    }

    @Test
    void fewerFailuresThanTheThresholdAreOnlySuspicion() {
        Verdict v = Detector.decide(input(topology(down("pg1"), replica("pg2", 100, false)), 2));
        assertThat(v).isInstanceOf(Verdict.PrimarySuspect.class);
    }

    @Test
    void declaresThePrimaryDeadWhenUnreachableAndEveryReplicaLostIt() {
        Verdict v =
                Detector.decide(input(topology(down("pg1"), replica("pg2", 100, false), replica("pg3", 90, false)), 3));
        assertThat(v).isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> {
            assertThat(d.primary()).isEqualTo("pg1");
            assertThat(d.actionable()).isTrue();
        });
    }

    @Test
    void doesNotFailOverWhenOnlyTheOrchestratorLosesThePrimary() {
        Verdict v = Detector.decide(
                input(topology(down("pg1"), replica("pg2", 100, true), replica("pg3", 100, false)), 10));
        assertThat(v).isInstanceOfSatisfying(Verdict.PrimaryUnreachableButReplicating.class, u -> assertThat(
                        u.streamingReplicas())
                .containsExactly("pg2"));
    }

    @Test
    void unreachableReplicasCannotConfirmADeadPrimary() {
        Verdict v = Detector.decide(input(topology(down("pg1"), down("pg2"), down("pg3")), 10));
        assertThat(v).isInstanceOf(Verdict.PrimaryUnconfirmed.class);
    }

    @Test
    void pausedClusterReportsTheDeadPrimaryButDoesNotAct() {
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        Verdict v = Detector.decide(new DetectionInput(t, "pg1", 3, 3, true, true, null, Duration.ZERO, NOW));
        assertThat(v).isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> {
            assertThat(d.actionable()).isFalse();
            assertThat(d.blockedBy()).contains("paused");
        });
    }

    @Test
    void noFailoverWithinTheAntiFlapWindowOrWithoutZooKeeper() {
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        Verdict recent = Detector.decide(
                new DetectionInput(t, "pg1", 3, 3, false, true, NOW.minusSeconds(10), Duration.ofSeconds(30), NOW));
        assertThat(((Verdict.PrimaryDead) recent).blockedBy()).contains("anti-flap");
        Verdict old = Detector.decide(
                new DetectionInput(t, "pg1", 3, 3, false, true, NOW.minusSeconds(31), Duration.ofSeconds(30), NOW));
        assertThat(((Verdict.PrimaryDead) old).actionable()).isTrue();
        Verdict noQuorum = Detector.decide(new DetectionInput(t, "pg1", 3, 3, false, false, null, Duration.ZERO, NOW));
        assertThat(((Verdict.PrimaryDead) noQuorum).blockedBy()).contains("quorum");
    }

    @Test
    void bootstrapsTheOnlyWritablePrimaryAndRefusesToGuessBetweenTwo() {
        Topology one = topology(primary("pg1", 1), replica("pg2", 1, true));
        assertThat(Detector.decide(new DetectionInput(one, null, 0, 3, false, true, null, Duration.ZERO, NOW)))
                .isEqualTo(new Verdict.Bootstrap("pg1"));
        Topology two = topology(primary("pg1", 1), primary("pg2", 1));
        assertThat(Detector.decide(new DetectionInput(two, null, 0, 3, false, true, null, Duration.ZERO, NOW)))
                .isInstanceOf(Verdict.Ambiguous.class);
    }

    @Test
    void anOldPrimaryRunningWritableIsToBeFenced() {
        Topology t = topology(primary("pg1", 50), primary("pg2", 100), replica("pg3", 100, true));
        assertThat(Detector.toFence(t, "pg2")).containsExactly("pg1");
    }

    @Test
    void aRejectedPasswordDoesNotCountAsADownNode() {
        NodeObservation auth = NodeObservation.unreachable(
                Fixtures.node("pg1"), NOW, FailureKind.AUTHENTICATION, "password authentication failed");
        assertThat(Detector.countsAsDown(auth)).isFalse();
        assertThat(Detector.countsAsDown(down("pg1"))).isTrue();
    }
}
