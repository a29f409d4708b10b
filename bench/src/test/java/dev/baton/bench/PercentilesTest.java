package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class PercentilesTest {
    private static final List<Long> TEN = List.of(900L, 100L, 800L, 200L, 700L, 300L, 600L, 400L, 500L, 1000L);

    @Test
    void medianOfAnOddCountIsTheMiddleValue() {
        assertThat(Percentiles.median(List.of(3L, 1L, 2L))).isEqualTo(2);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() {
        assertThat(Percentiles.median(TEN)).isEqualTo(550);
    }

    @Test
    void p90IsTheNearestRank() {
        assertThat(Percentiles.percentile(TEN, 90)).isEqualTo(900);
        assertThat(Percentiles.percentile(List.of(5L), 90)).isEqualTo(5);
        assertThat(Percentiles.percentile(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L), 90))
                .isEqualTo(10);
    }

    @Test
    void maxAndMinAreTheExtremes() {
        assertThat(Percentiles.max(TEN)).isEqualTo(1000);
        assertThat(Percentiles.min(TEN)).isEqualTo(100);
    }

    @Test
    void aMissedRunCountsAsLongerThanAnyMeasuredOne() {
        List<Long> oneMissed = List.of(100L, Percentiles.MISSED, 300L);
        assertThat(Percentiles.max(oneMissed)).isEqualTo(Percentiles.MISSED);
        assertThat(Percentiles.median(oneMissed)).isEqualTo(300);
        assertThat(Percentiles.median(List.of(100L, Percentiles.MISSED))).isEqualTo(Percentiles.MISSED);
    }

    @Test
    void refusesNoValuesAndPercentagesOutOfRange() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> Percentiles.median(List.of())))
                .hasMessage("no values");
        assertThat(assertThrows(IllegalArgumentException.class, () -> Percentiles.percentile(TEN, 0)))
                .hasMessage("percent: 0 is not in 1-100");
    }
}
