package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The checker's counts on hand-made writes, epochs and end states. */
class ConsistencyTest {
    private static final Map<Integer, String> NODES = Map.of(1, "n1", 2, "n2", 3, "n3");
    private static final long MS = 1_000_000L;

    private static Writer.Write ack(long id, long endMs, int port, String app) {
        return new Writer.Write(id, (endMs - 1) * MS, endMs * MS, port, null, null, app);
    }

    private static Writer.Write fail(long id, long endMs, String state) {
        return new Writer.Write(id, (endMs - 1) * MS, endMs * MS, -1, state, "x", "A");
    }

    private static Consistency.NodeEnd end(String id, boolean replica, boolean readOnly, Long... rows) {
        return new Consistency.NodeEnd(id, Optional.of(new NodeRole(replica, readOnly)), Optional.of(Set.of(rows)));
    }

    @Test
    void countsLostUncertainSplitBrainAndErrors() {
        List<Writer.Write> writes = List.of(
                ack(1, 100, 1, "A"), // on n1 before epoch 2: fine, replicated
                ack(2, 1500, 1, "A"), // on n1 after epoch 2 was seen: split brain, and lost
                fail(3, 1600, "08006"), // failed but committed on n2: uncertain
                fail(4, 1700, "08001"),
                ack(5, 2000, 2, "B"));
        List<Consistency.Epoch> epochs =
                List.of(new Consistency.Epoch(1, "n1", 0), new Consistency.Epoch(2, "n2", 1000 * MS));
        List<Consistency.NodeEnd> ends = List.of(
                new Consistency.NodeEnd("n1", Optional.empty(), Optional.empty()),
                end("n2", false, false, 1L, 3L, 5L),
                end("n3", true, true, 1L, 3L, 5L));

        Consistency.Report r = Consistency.check(writes, NODES, epochs, ends, "n1", 900 * MS, 1);

        assertThat(r.acknowledged()).isEqualTo(3);
        assertThat(r.lostAcknowledged()).isEqualTo(1);
        assertThat(r.uncertain()).isEqualTo(1);
        assertThat(r.splitBrain()).isEqualTo(1);
        assertThat(r.errors()).containsExactlyInAnyOrderEntriesOf(Map.of("08006", 1L, "08001", 1L));
        assertThat(r.promotions()).isEqualTo(1);
        assertThat(r.falseFailovers()).isZero();
        assertThat(r.promotedServers()).isEqualTo(1);
        assertThat(r.writablePrimaries()).isEqualTo(1);
        assertThat(r.diverged()).isEmpty();
        assertThat(r.recoveryMs()).isEqualTo(1100);
        assertThat(r.finalPrimary()).isEqualTo("n2");
    }

    @Test
    void aWriteOnTheNewPrimaryJustBeforeTheWatchSawItsEpochIsNotSplitBrain() {
        List<Consistency.Epoch> epochs =
                List.of(new Consistency.Epoch(1, "n1", 0), new Consistency.Epoch(2, "n2", 1000 * MS));
        assertThat(Consistency.isSplitBrain(ack(1, 990, 2, "A"), "n2", epochs)).isFalse();
        assertThat(Consistency.isSplitBrain(ack(1, 500, 2, "A"), "n2", epochs)).isTrue();
        assertThat(Consistency.isSplitBrain(ack(1, 500, 1, "A"), "n1", epochs)).isFalse();
    }

    @Test
    void replicasMissingRowsOrHoldingExtraOnesDiverge() {
        List<Consistency.Epoch> epochs = List.of(new Consistency.Epoch(1, "n1", 0));
        List<Consistency.NodeEnd> ends =
                List.of(end("n1", false, false, 1L, 2L), end("n2", true, true, 1L, 9L), end("n3", true, true, 1L, 2L));

        Consistency.Report r = Consistency.check(List.of(), NODES, epochs, ends, "n1", 0, 0);

        assertThat(r.diverged()).containsExactly("n2 +1/-1");
        assertThat(r.promotions()).isZero();
    }

    @Test
    void promotionsBeyondTheExpectedAreFalseFailoversAndTwoWritablePrimariesAreCounted() {
        List<Consistency.Epoch> epochs =
                List.of(new Consistency.Epoch(1, "n1", 0), new Consistency.Epoch(2, "n2", 5 * MS));
        List<Consistency.NodeEnd> ends =
                List.of(end("n1", false, false), end("n2", false, false), end("n3", true, true));

        Consistency.Report r = Consistency.check(List.of(), NODES, epochs, ends, "n1", 0, 0);

        assertThat(r.falseFailovers()).isEqualTo(1);
        assertThat(r.writablePrimaries()).isEqualTo(2);
    }

    @Test
    void theLongestGapIsPerApplicationAndRunsToTheEndForOneThatNeverWritesAgain() {
        List<Writer.Write> writes = List.of(
                ack(1, 100, 1, "A"),
                ack(2, 150, 1, "B"),
                ack(3, 400, 1, "B"),
                ack(4, 450, 1, "B"),
                fail(5, 900, "08006"));
        // A: last ack at 100, the scenario's last write ended at 900 -> 800
        assertThat(Consistency.longestGapMs(writes, 50 * MS)).isEqualTo(800);
    }
}
