package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The failover benchmarks ({@code bench failover}, {@code bench hang}): per run a fresh cluster under write load
 * whose primary crashes or hangs at a random moment of the orchestrator's poll cycle; the time to the first write
 * committed on another node, then what the servers themselves say once the failover settled, and for a hang
 * whether the woken-up old primary was fenced. Ends with the summary against DESIGN.md's targets.
 */
final class FaultBench {
    /** A run without a write on another node by then is a miss. */
    static final Duration DEADLINE = Duration.ofSeconds(90);
    /** How long after the first write the servers are asked for their roles. */
    static final Duration SETTLE = Duration.ofSeconds(3);
    /** How long a woken-up old primary may take to be fenced. */
    static final Duration FENCE_WAIT = Duration.ofSeconds(20);
    /** The orchestrator's poll interval in {@link FailoverScenario}'s configuration. */
    private static final int POLL_MS = 500;

    private final PrintWriter out;
    private final Fault fault;
    private final String dialect;
    private final ServerProfile profile;
    private final int rate;

    /** With an agent beside every node; for a hang, allowed to kill the frozen server (killHungServer). */
    private final boolean agents;

    FaultBench(PrintWriter out, Fault fault, String dialect, ServerProfile profile, int rate, boolean agents) {
        this.out = out;
        this.agents = agents;
        this.fault = fault;
        this.dialect = dialect;
        this.profile = profile;
        this.rate = rate;
    }

    int run(int runs) throws Exception {
        out.printf(
                "%s at a random moment of the orchestrator's %d ms poll cycle; no write on another node within %d s"
                        + " is a miss; roles read from the servers %d s after the first write%n",
                fault.verb(), POLL_MS, DEADLINE.toSeconds(), SETTLE.toSeconds());
        out.printf(
                "%4s %6s %6s %10s %11s %11s %13s %7s %9s %11s%s%n",
                "run",
                "from",
                "to",
                "detect ms",
                "promote ms",
                "publish ms",
                "1st write ms",
                "failed",
                "promoted",
                "1 writable",
                fault == Fault.HANG ? String.format(" %10s", "fenced ms") : "");
        out.flush();
        List<FaultSummary.Run> results = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            results.add(once(i));
        }
        FaultSummary summary = new FaultSummary(fault, DEADLINE.toMillis(), results, agents);
        out.printf(
                "%s to first committed write on another node, %d run%s on %s: median %s ms, p90 %s ms, max %s ms"
                        + ", min %s ms (%d missed the %d s deadline)%n",
                fault.verb(),
                runs,
                runs == 1 ? "" : "s",
                profile.describe(dialect),
                summary.millis(summary.median()),
                summary.millis(summary.p90()),
                summary.millis(summary.max()),
                summary.millis(summary.min()),
                summary.misses(),
                DEADLINE.toSeconds());
        for (FaultSummary.Target t : summary.targets()) {
            out.printf("  %-62s %8s   target %-10s %s%n", t.what(), t.measured(), t.rule(), t.verdict());
        }
        out.flush();
        return 0;
    }

    private FaultSummary.Run once(int i) throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare(dialect, profile, step -> {})) {
            FailoverRun run = new FailoverRun(s);
            s.startOrchestratorAndApplication(run.listener(e -> {}), Duration.ofSeconds(30));
            if (agents) {
                s.startAgents(fault == Fault.HANG ? "killHungServer: true\n" : "");
            }
            try (Writer writer = new Writer(s.dataSource(), dialect, rate).start()) {
                // A random moment within the orchestrator's poll cycle, as a real crash or hang would come.
                Thread.sleep(2000 + ThreadLocalRandom.current().nextInt(POLL_MS));
                FailoverRun.Result r = run.failPrimary(fault, writer, DEADLINE);
                SandboxNode old = s.node(r.oldPrimary());
                EndState end;
                long fencedMs;
                try {
                    if (r.firstWrite() != null) {
                        sleepUntil(r.firstWrite().endNanos() + SETTLE.toNanos());
                    }
                    end = EndState.read(s.cluster(), r.oldPrimary());
                } finally {
                    // Killed by its agent (killHungServer): nothing can commit there, as fenced as it gets.
                    boolean killed = fault == Fault.HANG && !old.isRunning();
                    fencedMs = killed ? 0 : fault.wakeUp(old) ? awaitFenced(s.cluster(), old) : -1;
                }
                FaultSummary.Run result = new FaultSummary.Run(r.firstWriteMs(), end, fencedMs);
                printRun(i, r, result, stepsOf(s));
                return result;
            }
        }
    }

    private void printRun(int i, FailoverRun.Result r, FaultSummary.Run result, String steps) {
        EndState end = result.end();
        out.printf(
                "%4d %6s %6s %10d %11d %11d %13s %7d %9d %11s%s%n",
                i,
                r.oldPrimary(),
                r.newPrimary(),
                r.detectedMs(),
                r.promotedMs(),
                r.publishedMs(),
                FaultSummary.millis(r.firstWriteMs(), DEADLINE.toMillis()),
                r.failedWrites(),
                end.promoted(),
                end.oneWritablePrimary() ? "yes" : "no (" + end.writablePrimaries() + ")",
                fault == Fault.HANG
                        ? String.format(" %10s", result.fencedMs() < 0 ? "no" : Long.toString(result.fencedMs()))
                        : "");
        out.println("       steps: " + steps);
        out.flush();
    }

    /** Milliseconds from the wake-up until {@code old} answers as read-only; -1 if it does not within the wait. */
    private static long awaitFenced(LocalCluster cluster, SandboxNode old) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + FENCE_WAIT.toNanos();
        while (System.nanoTime() < end) {
            Optional<NodeRole> role = NodeRole.read(cluster, old);
            if (role.isPresent() && role.get().readOnly()) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(100);
        }
        return -1;
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left = nanos - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }

    /** Where the orchestrator's time went in the last failover, from its history entry. */
    private static String stepsOf(FailoverScenario s) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (s.history().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        var history = s.history();
        if (history.isEmpty()) {
            return "(no history entry)";
        }
        return history.get(history.size() - 1).steps().stream()
                .map(step -> step.name() + " " + step.millis())
                .collect(Collectors.joining(", ", "", " ms"));
    }
}
