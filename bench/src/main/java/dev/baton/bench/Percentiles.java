package dev.baton.bench;

import java.util.List;

/**
 * Order statistics of measured times. A run that missed its deadline has no time; it counts as {@link #MISSED},
 * longer than any measured one, so that it moves the percentiles instead of disappearing from them.
 */
final class Percentiles {
    static final long MISSED = Long.MAX_VALUE;

    private Percentiles() {}

    /** The middle value; of an even count, the mean of the two middle ones (missed if either is). */
    static long median(List<Long> values) {
        List<Long> sorted = sorted(values);
        int n = sorted.size();
        if (n % 2 == 1) {
            return sorted.get(n / 2);
        }
        long low = sorted.get(n / 2 - 1);
        long high = sorted.get(n / 2);
        return high == MISSED ? MISSED : (low + high) / 2;
    }

    /** The nearest-rank percentile: the smallest value that at least {@code percent} % of the values do not exceed. */
    static long percentile(List<Long> values, int percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("percent: " + percent + " is not in 1-100");
        }
        List<Long> sorted = sorted(values);
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(rank - 1);
    }

    static long max(List<Long> values) {
        return percentile(values, 100);
    }

    static long min(List<Long> values) {
        return sorted(values).get(0);
    }

    private static List<Long> sorted(List<Long> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        return values.stream().sorted().toList();
    }
}
