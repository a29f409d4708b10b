package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.jdbc.CommitOutcome.Gtid;
import dev.baton.jdbc.CommitOutcome.Outcome;
import dev.baton.jdbc.CommitOutcome.Pg;
import dev.baton.jdbc.CommitOutcome.Pg.Serving;
import org.junit.jupiter.api.Test;

/** When the xid or the GTID position can decide a lost commit, and when it cannot. */
class CommitOutcomeDecisionTest {
    private static final Pg MARK = new Pg("1084", CommitOutcome.parseLsn("0/4040000"), 1, "start-1");

    @Test
    void asksTheXidStatusOnTheSameServerStillRunning() {
        assertThat(Pg.decide(MARK, new Serving(1, "start-1", null, false)).askStatus())
                .isTrue();
    }

    @Test
    void notCommittedWhenThePromotedReplicaStoppedReplayingBeforeTheTransactionsWrites() {
        Pg.Decision d = Pg.decide(MARK, new Serving(2, "start-2", CommitOutcome.parseLsn("0/403FFFF"), true));
        assertThat(d.askStatus()).isFalse();
        assertThat(d.answer().outcome()).isEqualTo(Outcome.NOT_COMMITTED);
    }

    @Test
    void asksTheXidStatusOnAReplicaPromotedPastTheTransactionsWrites() {
        assertThat(Pg.decide(MARK, new Serving(2, "start-2", CommitOutcome.parseLsn("0/4040000"), true))
                        .askStatus())
                .isTrue();
    }

    @Test
    void unknownWhenThePromotedReplicaWasRestartedOrIsNotTheNextTimeline() {
        long past = CommitOutcome.parseLsn("0/5000000");
        assertThat(Pg.decide(MARK, new Serving(2, "start-2", past, false))
                        .answer()
                        .outcome())
                .as("restarted after its promotion: its replay position is from a later recovery")
                .isEqualTo(Outcome.UNKNOWN);
        assertThat(Pg.decide(MARK, new Serving(3, "start-2", past, true))
                        .answer()
                        .outcome())
                .as("promoted twice since: the transaction's timeline may have been left before it")
                .isEqualTo(Outcome.UNKNOWN);
        assertThat(Pg.decide(MARK, new Serving(2, "start-2", null, false))
                        .answer()
                        .outcome())
                .isEqualTo(Outcome.UNKNOWN);
    }

    @Test
    void asksTheXidStatusAfterCrashRecoveryOnTheSameTimelinePastTheWrites() {
        assertThat(Pg.decide(MARK, new Serving(1, "start-2", CommitOutcome.parseLsn("0/4050000"), false))
                        .askStatus())
                .isTrue();
        assertThat(Pg.decide(MARK, new Serving(1, "start-2", CommitOutcome.parseLsn("0/4000000"), false))
                        .answer()
                        .outcome())
                .isEqualTo(Outcome.NOT_COMMITTED);
    }

    @Test
    void gtidNotCommittedOnlyWhenTheNewPrimaryAppliedNothingPastTheMark() {
        Gtid mark = new Gtid(0, 1, 340);
        assertThat(Gtid.decide(mark, 2, "0-1-340").outcome()).isEqualTo(Outcome.NOT_COMMITTED);
        assertThat(Gtid.decide(mark, 2, "1-5-900,0-1-338").outcome()).isEqualTo(Outcome.NOT_COMMITTED);
        assertThat(Gtid.decide(mark, 2, "0-1-341").outcome()).isEqualTo(Outcome.UNKNOWN);
        assertThat(Gtid.decide(mark, 1, "").outcome()).as("the same server").isEqualTo(Outcome.UNKNOWN);
    }

    @Test
    void parsesPositions() {
        assertThat(CommitOutcome.parseLsn("16/B374D848")).isEqualTo(0x16B374D848L);
        assertThat(CommitOutcome.timelineOf("0000000A0000000000000004")).isEqualTo(10);
        assertThat(CommitOutcome.seqOf("0-1-42,3-2-7", 3)).isEqualTo(7);
        assertThat(CommitOutcome.seqOf(null, 0)).isZero();
    }
}
