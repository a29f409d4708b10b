package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The CI subset of the fault matrix ({@code bin/baton bench matrix} runs all of it), on PostgreSQL at server
 * defaults, with the two applications of {@link MatrixApps} writing through the wrapper and the consistency checker
 * counting. About 5 minutes in all.
 */
class FaultMatrixTest {
    private static final int RATE = 100;

    private static Consistency.Report run(MatrixCase c) {
        return outcome(c).report();
    }

    /** Runs {@code c} on PostgreSQL, prints what it found, and checks that the run itself finished. */
    private static MatrixRun.Outcome outcome(MatrixCase c) {
        MatrixRun.Outcome o = MatrixRun.run(c, "postgresql", RATE, line -> {});
        assertThat(o.error()).as("the run itself").isNull();
        System.out.println(c.id() + ": " + o.report() + " " + o.notes());
        return o;
    }

    /** What every partition of the primary must end with: one promotion, nothing on the old primary after it. */
    private static void assertOnePromotionAndNoSplitBrain(Consistency.Report r) {
        assertThat(r.promotions()).isEqualTo(1);
        assertThat(r.splitBrain())
                .as("writes acknowledged by the old primary after epoch 2")
                .isZero();
        assertThat(r.writablePrimaries()).isEqualTo(1);
    }

    @Test
    void switchoverLosesNoAcknowledgedWrite() {
        Consistency.Report r = run(MatrixCase.SWITCHOVER);
        assertThat(r.acknowledged()).isGreaterThan(500);
        assertThat(r.lostAcknowledged()).isZero();
        // Not asserted yet: no application error. The kept jdbc:baton: connections see one error each today (25006
        // on PostgreSQL, 08S01 on MariaDB); docs/benchmarks.md reports it as a defect.
        assertThat(r.splitBrain()).isZero();
        assertThat(r.promotions()).isEqualTo(1);
        assertThat(r.writablePrimaries()).isEqualTo(1);
        assertThat(r.diverged()).isEmpty();
    }

    @Test
    void orchestratorLinkCutWithReplicasStreamingIsNoFailover() {
        Consistency.Report r = run(MatrixCase.ORCHESTRATOR_LINK_CUT);
        assertThat(r.promotions()).isZero();
        assertThat(r.falseFailovers()).isZero();
        assertThat(r.writablePrimaries()).isEqualTo(1);
        assertThat(r.lostAcknowledged()).isZero();
    }

    @Test
    void crashedPrimaryIsReplacedByExactlyOnePromotion() {
        Consistency.Report r = run(MatrixCase.PRIMARY_SIGKILL);
        assertThat(r.promotions()).isEqualTo(1);
        assertThat(r.promotedServers()).isEqualTo(1);
        assertThat(r.writablePrimaries()).isEqualTo(1);
        assertThat(r.splitBrain()).isZero();
        assertThat(r.diverged()).isEmpty();
    }

    @Test
    void partitionedPrimaryTakesNoWriteAfterTheNewEpochIsPublished() {
        Consistency.Report r = run(MatrixCase.PRIMARY_PARTITIONED);
        assertOnePromotionAndNoSplitBrain(r);
    }

    @Test
    void partitionThatAnswersWithResetsTakesNoWriteOnTheOldPrimaryAfterTheNewEpoch() {
        // Refused probes and reset receivers look exactly like a crash; app A, cut off with the old primary and
        // from ZooKeeper, cannot acknowledge the hold, so the orchestrator must wait out its lease.
        Consistency.Report r = run(MatrixCase.PRIMARY_PARTITIONED_RESET);
        assertOnePromotionAndNoSplitBrain(r);
    }

    @Test
    void aCrashedPrimaryRestartedAtOnceIsFencedAndTakesNoWriteAfterTheNewEpoch() {
        Consistency.Report r = run(MatrixCase.PRIMARY_SIGKILL_RESTARTED);
        assertThat(r.promotions())
                .as("none when it was back before it was declared dead")
                .isBetween(0L, 1L);
        assertThat(r.splitBrain()).isZero();
        assertThat(r.writablePrimaries()).isEqualTo(1);
    }

    @Test
    void anApplicationHeldOffAPrimaryNotProvenGoneNeverGoesBackToItPastHoldTimeout() {
        MatrixRun.Outcome o = outcome(MatrixCase.PRIMARY_HELD_PAST_HOLD_TIMEOUT);
        assertThat(o.notes()).anyMatch(n -> n.startsWith("held at "));
        assertThat(o.notes()).anyMatch(n -> n.matches("0 writes acknowledged by \\S+ after the hold"));
        assertThat(o.report().promotions()).isEqualTo(1);
        assertThat(o.report().writablePrimaries()).isEqualTo(1);
    }

    @Test
    void anApplicationWhoseOnlyZooKeeperServerIsAStaleFollowerTakesNoWriteOnTheOldPrimaryAfterTheNewEpoch() {
        // The follower, cut off from the other two servers, answers plain reads for about 10 s; the lease is renewed
        // only by sync() then read, so app A's runs out and the orchestrator waits it out.
        Consistency.Report r = run(MatrixCase.PRIMARY_PARTITIONED_STALE_FOLLOWER);
        assertOnePromotionAndNoSplitBrain(r);
    }

    @Test
    void oneSlowProbeHoldsNothingRunsNoFenceCommandAndFailsNoWrite() {
        MatrixRun.Outcome o = outcome(MatrixCase.PRIMARY_ONE_SLOW_PROBE);
        assertThat(o.notes()).anyMatch(n -> n.startsWith("SIGCONT at the first report: "));
        assertThat(o.notes()).contains("fence command did not run");
        assertThat(o.notes()).anyMatch(n -> n.startsWith("no unconfirmed-primary hold within"));
        // every event about the old primary, also one written and released before the hold was polled
        assertThat(o.notes())
                .anyMatch(n -> n.startsWith("events: ") && !n.contains("PRIMARY_DEAD") && !n.contains("FENCED"));
        assertThat(o.report().promotions()).isZero();
        assertThat(o.report().errors()).as("no application error").isEmpty();
    }

    @Test
    void aLostReplyToThePromotionRequestPromotesExactlyOneNode() {
        MatrixRun.Outcome o = outcome(MatrixCase.PROMOTE_REPLY_LOST);
        assertThat(o.notes()).anyMatch(n -> n.matches("promotion reply dropped on \\[\\w+\\]"));
        assertThat(o.report().promotions()).isEqualTo(1);
        assertThat(o.report().promotedServers()).isEqualTo(1);
        assertThat(o.report().writablePrimaries()).isEqualTo(1);
        assertThat(o.report().splitBrain()).isZero();
    }

    @Test
    void withAgentsAPlainJdbcClientCutOffWithThePrimaryCommitsNothingThereAfterTheNewEpoch() {
        // psql, another language, a pooler: no wrapper, no lease. Only the agent's fence (it kills its server when its
        // own lease runs out) stops it; the orchestrator waits that lease out before it promotes.
        MatrixRun.Outcome o = outcome(MatrixCase.PRIMARY_PARTITIONED_AGENT);
        assertOnePromotionAndNoSplitBrain(o.report());
        assertThat(o.notes()).anyMatch(n -> n.matches("plain client: [1-9]\\d* writes acknowledged by .*"));
        assertThat(o.notes()).anyMatch(n -> n.contains("killed during the partition"));
    }

    @Test
    void withAgentsAPlainJdbcClientBehindAFirewallThatResetsCommitsNothingThereAfterTheNewEpoch() {
        MatrixRun.Outcome o = outcome(MatrixCase.PRIMARY_PARTITIONED_RESET_AGENT);
        assertOnePromotionAndNoSplitBrain(o.report());
        assertThat(o.notes()).anyMatch(n -> n.matches("plain client: [1-9]\\d* writes acknowledged by .*"));
        assertThat(o.notes()).anyMatch(n -> n.contains("killed during the partition"));
    }
}
