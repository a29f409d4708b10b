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
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DetectorTest {
    private static DetectionInput input(Topology t, int failures) {
        return in(t, "pg1", failures, 3, false, true, null, Duration.ofSeconds(30));
    }

    /** The input with no progress history and the default silence window. */
    private static DetectionInput in(
            Topology t,
            String published,
            int failures,
            int threshold,
            boolean paused,
            boolean zk,
            Instant lastFailover,
            Duration antiFlap) {
        return new DetectionInput(
                t,
                published,
                null,
                failures,
                threshold,
                paused,
                zk,
                lastFailover,
                antiFlap,
                Map.of(),
                null,
                Duration.ofSeconds(2),
                NOW,
                null);
    }

    /** A primary at 127.0.0.1:5000 that failed 3 probes, last answered {@code contactAgo} ago. */
    private static DetectionInput silent(Topology t, Map<String, Instant> progress, Duration contactAgo) {
        return new DetectionInput(
                t,
                "pg1",
                "127.0.0.1:5000",
                3,
                3,
                false,
                true,
                null,
                Duration.ZERO,
                progress,
                NOW.minus(contactAgo),
                Duration.ofSeconds(2),
                NOW,
                null);
    }

    /** {@code failures} failed probes of pg1 and, when {@code proof} is set, its agent's report of its death. */
    private static DetectionInput withProof(Topology t, int failures, boolean paused, String proof) {
        return new DetectionInput(
                t,
                "pg1",
                "127.0.0.1:5000",
                failures,
                3,
                paused,
                true,
                null,
                Duration.ZERO,
                Map.of(),
                null,
                Duration.ofSeconds(2),
                NOW,
                proof);
    }

    @Test
    void theAgentsReportOfTheServersExitIsProofAfterOneFailedProbeEvenWhileReplicasStillStream() {
        Topology t = topology(down("pg1"), replica("pg2", 100, true), replica("pg3", 90, true));
        assertThat(Detector.decide(withProof(t, 1, false, null)))
                .as("without the agent: one failure is only a suspicion")
                .isInstanceOf(Verdict.PrimarySuspect.class);
        assertThat(Detector.decide(withProof(t, 1, false, "its agent reports the server exited: gone")))
                .isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> {
                    assertThat(d.confirmed()).isTrue();
                    assertThat(d.actionable()).isTrue();
                    assertThat(d.evidence()).contains("its agent reports the server exited");
                });
    }

    @Test
    void theAgentsReportDoesNotOverruleAPrimaryThatAnswersNorAPause() {
        Topology answering = topology(primary("pg1", 100), replica("pg2", 100, true));
        assertThat(Detector.decide(withProof(answering, 0, false, "its agent reports the server exited: gone")))
                .isInstanceOf(Verdict.Healthy.class);
        Topology gone = topology(down("pg1"), replica("pg2", 100, true));
        assertThat(Detector.decide(withProof(gone, 1, true, "its agent reports the server exited: gone")))
                .isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> assertThat(d.actionable())
                        .isFalse());
    }

    @Test
    void aHungPrimaryWhoseReplicasStillClaimToStreamIsDeadOnceTheyReceivedNothingForTheSilenceWindow() {
        Topology t = topology(down("pg1"), replica("pg2", 100, true), replica("pg3", 90, true));
        Map<String, Instant> progress = Map.of("pg2", NOW.minusSeconds(30), "pg3", NOW.minusSeconds(30));
        assertThat(Detector.decide(silent(t, progress, Duration.ofMillis(1500))))
                .as("the primary answered 1.5 s ago: not silent long enough")
                .isInstanceOf(Verdict.PrimaryUnreachableButReplicating.class);
        assertThat(Detector.decide(silent(t, progress, Duration.ofMillis(2100))))
                .isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> assertThat(d.evidence())
                        .contains("receiving nothing although connected"));
    }

    @Test
    void aReplicaThatStillReceivesShowsThePrimaryAliveWhateverTheOrchestratorSees() {
        Topology t = topology(down("pg1"), replica("pg2", 100, true), replica("pg3", 90, true));
        Map<String, Instant> progress = Map.of("pg2", NOW.minusMillis(300), "pg3", NOW.minusSeconds(30));
        assertThat(Detector.decide(silent(t, progress, Duration.ofSeconds(10))))
                .isInstanceOfSatisfying(
                        Verdict.PrimaryUnreachableButReplicating.class,
                        u -> assertThat(u.streamingReplicas()).containsExactly("pg2"));
    }

    @Test
    void onlyReplicasThatFollowThePublishedPrimaryCountAsEvidence() {
        // pg3 still streams, but from a fenced former primary: it says nothing about pg1.
        NodeObservation elsewhere = new NodeObservation(
                Fixtures.node("pg3"),
                NOW,
                true,
                null,
                null,
                dev.baton.registry.NodeRole.REPLICA,
                1,
                new Fixtures.Pos(1, 90),
                new Fixtures.Pos(1, 90),
                true,
                "127.0.0.1:6000",
                0,
                true,
                true);
        Topology t = topology(down("pg1"), replica("pg2", 100, false), elsewhere);
        DetectionInput in = silent(t, Map.of("pg3", NOW), Duration.ofMillis(100));
        assertThat(Detector.decide(in)).isInstanceOf(Verdict.PrimaryDead.class);
        assertThat(Detector.strays(t, "pg1", "127.0.0.1:5000")).containsExactly("pg3");
        Topology onlyElsewhere = topology(down("pg1"), elsewhere);
        assertThat(Detector.decide(silent(onlyElsewhere, Map.of(), Duration.ofMillis(100))))
                .isInstanceOf(Verdict.PrimaryUnconfirmed.class);
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
        Verdict v = Detector.decide(in(t, "pg1", 3, 3, true, true, null, Duration.ZERO));
        assertThat(v).isInstanceOfSatisfying(Verdict.PrimaryDead.class, d -> {
            assertThat(d.actionable()).isFalse();
            assertThat(d.blockedBy()).contains("paused");
        });
    }

    @Test
    void noFailoverWithinTheAntiFlapWindowOrWithoutZooKeeper() {
        Topology t = topology(down("pg1"), replica("pg2", 100, false));
        Verdict recent = Detector.decide(in(t, "pg1", 3, 3, false, true, NOW.minusSeconds(10), Duration.ofSeconds(30)));
        assertThat(((Verdict.PrimaryDead) recent).blockedBy()).contains("anti-flap");
        Verdict old = Detector.decide(in(t, "pg1", 3, 3, false, true, NOW.minusSeconds(31), Duration.ofSeconds(30)));
        assertThat(((Verdict.PrimaryDead) old).actionable()).isTrue();
        Verdict noQuorum = Detector.decide(in(t, "pg1", 3, 3, false, false, null, Duration.ZERO));
        assertThat(((Verdict.PrimaryDead) noQuorum).blockedBy()).contains("quorum");
    }

    @Test
    void bootstrapsTheOnlyWritablePrimaryAndRefusesToGuessBetweenTwo() {
        Topology one = topology(primary("pg1", 1), replica("pg2", 1, true));
        assertThat(Detector.decide(in(one, null, 0, 3, false, true, null, Duration.ZERO)))
                .isEqualTo(new Verdict.Bootstrap("pg1"));
        Topology two = topology(primary("pg1", 1), primary("pg2", 1));
        assertThat(Detector.decide(in(two, null, 0, 3, false, true, null, Duration.ZERO)))
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

    @Test
    void aPrimaryIsConfirmedGoneOnlyWhenItRefusedAndEveryFollowerLostIt() {
        Topology refused = topology(down("pg1"), replica("pg2", 100, false), replica("pg3", 90, false));
        assertThat(((Verdict.PrimaryDead) Detector.decide(input(refused, 3))).confirmed())
                .isTrue();
        NodeObservation timedOut =
                NodeObservation.unreachable(Fixtures.node("pg1"), NOW, FailureKind.TIMEOUT, "no answer within 400 ms");
        Topology hung = topology(timedOut, replica("pg2", 100, false), replica("pg3", 90, false));
        Verdict.PrimaryDead d = (Verdict.PrimaryDead) Detector.decide(input(hung, 3));
        assertThat(d.confirmed()).isFalse();
        assertThat(d.evidence()).contains("unconfirmed: probes time out");
        Topology silentFollower = topology(down("pg1"), replica("pg2", 100, false), replica("pg3", 90, true));
        Verdict.PrimaryDead s = (Verdict.PrimaryDead)
                Detector.decide(silent(silentFollower, Map.of("pg3", NOW.minusSeconds(30)), Duration.ofSeconds(5)));
        assertThat(s.confirmed()).isFalse();
        assertThat(s.evidence()).contains("replicas are only silent");
    }

    @Test
    void aPrimaryLooksSilentOnlyWhileItsProbesTimeOutAndNoFollowerReceives() {
        NodeObservation timedOut =
                NodeObservation.unreachable(Fixtures.node("pg1"), NOW, FailureKind.TIMEOUT, "no answer within 400 ms");
        Topology t = topology(timedOut, replica("pg2", 100, true), replica("pg3", 90, true));
        Map<String, Instant> quiet = Map.of("pg2", NOW.minusSeconds(30), "pg3", NOW.minusSeconds(30));
        DetectionInput in = new DetectionInput(
                t,
                "pg1",
                "127.0.0.1:5000",
                1,
                3,
                false,
                true,
                null,
                Duration.ZERO,
                quiet,
                NOW.minusMillis(700),
                Duration.ofSeconds(2),
                NOW,
                null);
        assertThat(Detector.silentFor(in)).isEqualTo(Duration.ofMillis(700));
        DetectionInput receiving = new DetectionInput(
                t,
                "pg1",
                "127.0.0.1:5000",
                1,
                3,
                false,
                true,
                null,
                Duration.ZERO,
                Map.of("pg2", NOW.minusMillis(100), "pg3", NOW.minusSeconds(30)),
                NOW.minusMillis(700),
                Duration.ofSeconds(2),
                NOW,
                null);
        assertThat(Detector.silentFor(receiving)).isEqualTo(Duration.ofMillis(100));
        Topology refused = topology(down("pg1"), replica("pg2", 100, true));
        assertThat(Detector.silentFor(new DetectionInput(
                        refused,
                        "pg1",
                        "127.0.0.1:5000",
                        1,
                        3,
                        false,
                        true,
                        null,
                        Duration.ZERO,
                        quiet,
                        NOW.minusMillis(700),
                        Duration.ofSeconds(2),
                        NOW,
                        null)))
                .as("a refused connection is a gone process, not silence")
                .isNull();
    }
}
