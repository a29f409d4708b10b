package dev.baton.orchestrator.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MariaDbGtidPosTest {
    private static MariaDbGtidPos pos(String text) {
        return MariaDbGtidPos.parse(text);
    }

    @Test
    void parsesAndPrintsOneGtidPerDomainInDomainOrder() {
        MariaDbGtidPos p = pos("1-2-5, 0-1-100");
        assertThat(p.text()).isEqualTo("0-1-100,1-2-5");
        assertThat(p.gtid(1)).isEqualTo(new MariaDbGtidPos.Gtid(1, 2, 5));
        assertThat(pos("").isEmpty()).isTrue();
        assertThat(pos(null).text()).isEmpty();
    }

    @Test
    void unionKeepsTheHighestSequencePerDomain() {
        assertThat(pos("0-1-100,1-2-5").union(pos("0-3-101,2-1-1")).text()).isEqualTo("0-3-101,1-2-5,2-1-1");
        assertThat(pos("0-1-100").union(pos("0-1-90")).text()).isEqualTo("0-1-100");
    }

    @Test
    void containsWhenEveryDomainIsAtLeastAsFar() {
        assertThat(pos("0-1-100,1-2-5").contains(pos("0-1-99,1-2-5"))).isTrue();
        assertThat(pos("0-1-100").contains(pos("0-1-99,1-2-5"))).isFalse();
        assertThat(pos("0-1-100").contains(pos(""))).isTrue();
        // the same number by another server is another transaction
        assertThat(pos("0-1-100").contains(pos("0-2-100"))).isFalse();
    }

    @Test
    void differenceCountSumsTheSequencesAhead() {
        MariaDbGtidPos ahead = pos("0-1-100,1-2-5,2-1-3");
        MariaDbGtidPos behind = pos("0-1-90,1-2-7");
        assertThat(ahead.countNotIn(behind)).isEqualTo(10 + 0 + 3);
        assertThat(behind.countNotIn(ahead)).isEqualTo(2);
        assertThat(GtidSet.compare(ahead, behind)).isPositive();
        assertThat(GtidSet.compare(pos("0-1-7"), pos("0-1-7"))).isZero();
    }

    @Test
    void writesByAnotherServerBeyondThePrimarysLastGtidAreErrant() {
        MariaDbGtidPos primaryLast = pos("0-1-100");
        assertThat(pos("0-2-103").errantAgainst(primaryLast)).isEqualTo(3);
        assertThat(pos("0-2-100").errantAgainst(primaryLast)).isEqualTo(1);
        assertThat(pos("0-1-100,5-2-4").errantAgainst(primaryLast)).isEqualTo(4);
    }

    @Test
    void newerWritesOfThePrimaryItselfAreNotErrant() {
        assertThat(pos("0-1-140").errantAgainst(pos("0-1-100"))).isZero();
        assertThat(pos("0-1-90").errantAgainst(pos("0-1-100"))).isZero();
    }

    @Test
    void refusesMalformedPositionsNamingTheGtid() {
        assertThatThrownBy(() -> pos("0-1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'0-1'");
        assertThatThrownBy(() -> pos("0-1-x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'0-1-x'");
        assertThatThrownBy(() -> pos("0-1-5,0-2-6"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("domain 0 twice");
    }

    @Test
    void knowingThePrimarysServerIdItsFirstWritesAfterAPromotionAreNotErrant() {
        // server 2 was just promoted; its last seen position still ends with server 1's GTID
        MariaDbGtidPos primaryLast = pos("0-1-100").writtenBy(2);
        assertThat(pos("0-2-104").errantAgainst(primaryLast)).isZero();
        assertThat(pos("0-3-104").errantAgainst(primaryLast)).isEqualTo(4);
        assertThat(pos("0-2-104").errantAgainst(pos("0-1-100"))).isEqualTo(4);
    }
}
