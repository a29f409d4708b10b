package dev.baton.orchestrator.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MySqlGtidSetTest {
    private static final String A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private static final String B = "4a2b3c4d-0000-11e1-9e33-c80aa9429562";

    private static MySqlGtidSet set(String text) {
        return MySqlGtidSet.parse(text);
    }

    @Test
    void parsesMergesAndPrintsIntervalsPerSource() {
        MySqlGtidSet s = set(B + ":1-3,\n" + A.toUpperCase() + ":7:1-5:6");
        assertThat(s.text()).isEqualTo(A + ":1-7," + B + ":1-3");
        assertThat(s.count()).isEqualTo(10);
        assertThat(set("").isEmpty()).isTrue();
        assertThat(set(null).count()).isZero();
    }

    @Test
    void keepsTaggedTransactionsApartFromUntaggedOnes() {
        MySqlGtidSet s = set(A + ":1-5:Batch:1-2," + A + ":9");
        assertThat(s.text()).isEqualTo(A + ":1-5:9:batch:1-2");
        assertThat(s.count()).isEqualTo(8);
        assertThat(s.contains(set(A + ":1-2"))).isTrue();
        assertThat(set(A + ":1-9").contains(set(A + ":batch:1"))).isFalse();
    }

    @Test
    void unionHoldsBothSets() {
        assertThat(set(A + ":1-5").union(set(A + ":6-8," + B + ":2")).text()).isEqualTo(A + ":1-8," + B + ":2");
    }

    @Test
    void differenceAndCountNameTheMissingTransactions() {
        MySqlGtidSet ahead = set(A + ":1-10," + B + ":1-3");
        MySqlGtidSet behind = set(A + ":1-4:6");
        assertThat(ahead.minus(behind).text()).isEqualTo(A + ":5:7-10," + B + ":1-3");
        assertThat(ahead.countNotIn(behind)).isEqualTo(8);
        assertThat(behind.countNotIn(ahead)).isZero();
        assertThat(ahead.contains(behind)).isTrue();
        assertThat(behind.contains(ahead)).isFalse();
        assertThat(set(A + ":1-3").contains(set(""))).isTrue();
    }

    @Test
    void ordersByHowManyTransactionsEachLacks() {
        assertThat(GtidSet.compare(set(A + ":1-10"), set(A + ":1-9"))).isPositive();
        assertThat(GtidSet.compare(set(A + ":1-9"), set(A + ":1-10"))).isNegative();
        assertThat(GtidSet.compare(set(A + ":1-10"), set(A + ":1-10"))).isZero();
        // diverged: each has transactions the other lacks; more is ahead
        assertThat(GtidSet.compare(set(A + ":1-10," + B + ":1"), set(A + ":1-8," + B + ":1-5")))
                .isNegative();
    }

    @Test
    void transactionsOfTheCandidatesOwnUuidAreErrant() {
        MySqlGtidSet primaryLast = set(A + ":1-100");
        assertThat(set(A + ":1-100," + B + ":1-2").errantAgainst(primaryLast)).isEqualTo(2);
    }

    @Test
    void newerTransactionsOfThePrimarysStreamAreNotErrant() {
        MySqlGtidSet primaryLast = set(A + ":1-100," + B + ":1-20");
        assertThat(set(A + ":1-130," + B + ":1-20").errantAgainst(primaryLast)).isZero();
        // a hole below what the primary had is not the primary's
        assertThat(set(A + ":1-100," + B + ":1-21").errantAgainst(set(A + ":1-100," + B + ":1-20:22-30")))
                .isEqualTo(1);
    }

    @Test
    void refusesMalformedSetsNamingTheElement() {
        assertThatThrownBy(() -> set("not-a-uuid:1-3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'not-a-uuid:1-3'");
        assertThatThrownBy(() -> set(A + ":5-3"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'5-3'");
        assertThatThrownBy(() -> set(A + ":0"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'0'");
    }

    @Test
    void refusesToCompareWithAMariaDbPosition() {
        assertThatThrownBy(() -> set(A + ":1").contains(MariaDbGtidPos.parse("0-1-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("MariaDbGtidPos");
    }

    @Test
    void knowingThePrimarysUuidOnlyItsOwnLaterTransactionsAreNotErrant() {
        // B was a primary once; now A is, and B's later write on the replica is errant
        MySqlGtidSet primaryLast = set(A + ":1-100," + B + ":1-20").writtenBy(A.toUpperCase());
        assertThat(set(A + ":1-130," + B + ":1-21").errantAgainst(primaryLast)).isEqualTo(1);
        assertThat(set(A + ":1-130," + B + ":1-20").errantAgainst(primaryLast)).isZero();
        // without the UUID the former primary's stream is taken for the primary's
        assertThat(set(A + ":1-130," + B + ":1-21").errantAgainst(set(A + ":1-100," + B + ":1-20")))
                .isZero();
    }
}
