package dev.baton.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * What N failover runs add up to, against DESIGN.md's targets: percentiles of the time from the fault to the first
 * write committed on another node, runs that ended with more than one promoted node or with no writable primary,
 * and (for a hang) runs whose old primary was not fenced after it woke up. Measured and printed, never asserted.
 *
 * @param deadlineMs how long a run waited for its first write; a run without one counts as a miss
 * @param agents whether every node ran an agent: the targets are then the agent's
 */
record FaultSummary(Fault fault, long deadlineMs, List<Run> runs, boolean agents) {
    FaultSummary(Fault fault, long deadlineMs, List<Run> runs) {
        this(fault, deadlineMs, runs, false);
    }

    /**
     * One run as the summary counts it.
     *
     * @param firstWriteMs fault to first write committed on another node; -1 when none before the deadline
     * @param fencedMs wake-up to the old primary refusing writes; -1 when it did not within the wait (or the fault
     *     has no wake-up)
     */
    record Run(long firstWriteMs, EndState end, long fencedMs) {}

    /** One figure next to its target: {@code max 847 ms, target < 2000 ms: PASS}. */
    record Target(String what, String measured, String rule, boolean met) {
        String verdict() {
            return met ? "PASS" : "MISS";
        }
    }

    FaultSummary {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("a summary needs at least one run");
        }
        runs = List.copyOf(runs);
    }

    long median() {
        return Percentiles.median(firstWrites());
    }

    long p90() {
        return Percentiles.percentile(firstWrites(), 90);
    }

    long max() {
        return Percentiles.max(firstWrites());
    }

    long min() {
        return Percentiles.min(firstWrites());
    }

    long misses() {
        return runs.stream().filter(r -> r.firstWriteMs() < 0).count();
    }

    long runsWithMoreThanOnePromoted() {
        return runs.stream().filter(r -> r.end().promoted() > 1).count();
    }

    long runsWithoutWritablePrimary() {
        return runs.stream().filter(r -> r.end().writablePrimaries() == 0).count();
    }

    long runsNotFenced() {
        return runs.stream().filter(r -> r.fencedMs() < 0).count();
    }

    /** The figures that have a target, in the order they are printed. */
    List<Target> targets() {
        List<Target> targets = new ArrayList<>();
        long medianTarget = fault.medianTargetMs(agents);
        long maxTarget = fault.maxTargetMs(agents);
        targets.add(new Target("median", millis(median()), "< " + medianTarget + " ms", median() < medianTarget));
        targets.add(new Target("max", millis(max()), "< " + maxTarget + " ms", max() < maxTarget));
        targets.add(count("runs with more than one promoted node", runsWithMoreThanOnePromoted()));
        targets.add(count("runs with no writable primary at the end", runsWithoutWritablePrimary()));
        if (fault == Fault.HANG) {
            targets.add(count(
                    "runs whose old primary was not fenced within " + FaultBench.FENCE_WAIT.toSeconds()
                            + " s of SIGCONT" + (agents ? " (or killed by its agent)" : ""),
                    runsNotFenced()));
        }
        return targets;
    }

    /** A time in milliseconds as printed: {@code >90000} for a run that missed the deadline. */
    String millis(long ms) {
        return millis(ms, deadlineMs);
    }

    static String millis(long ms, long deadlineMs) {
        return ms < 0 || ms == Percentiles.MISSED ? ">" + deadlineMs : Long.toString(ms);
    }

    private List<Long> firstWrites() {
        return runs.stream()
                .map(r -> r.firstWriteMs() < 0 ? Percentiles.MISSED : r.firstWriteMs())
                .toList();
    }

    private static Target count(String what, long n) {
        return new Target(what, Long.toString(n), "0", n == 0);
    }
}
