package dev.baton.jmh;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.util.ListStatistics;

/**
 * The measured iterations of every round, per benchmark, metric and pool, and what they say together: each pool's
 * mean with JMH's 99.9 % error over all iterations of all rounds, and Baton against HikariCP, overall and per round.
 */
final class Scores {
    static final String THROUGHPUT = "ops/s";

    /** benchmark method -> metric -> pool -> round -> iteration values. */
    private final Map<String, Map<String, Map<String, Map<Integer, List<Double>>>>> values = new TreeMap<>();

    void add(int round, String pool, RunResult run) {
        Map<String, Map<String, Map<Integer, List<Double>>>> metrics =
                values.computeIfAbsent(method(run), k -> new TreeMap<>());
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            for (IterationResult it : fork.getIterationResults()) {
                add(metrics, THROUGHPUT, pool, round, it.getPrimaryResult().getScore());
                for (Map.Entry<String, Result> e : it.getSecondaryResults().entrySet()) {
                    add(metrics, e.getKey(), pool, round, e.getValue().getScore());
                }
            }
        }
    }

    private static void add(
            Map<String, Map<String, Map<Integer, List<Double>>>> metrics,
            String metric,
            String pool,
            int round,
            double value) {
        metrics.computeIfAbsent(metric, k -> new TreeMap<>())
                .computeIfAbsent(pool, k -> new TreeMap<>())
                .computeIfAbsent(round, k -> new ArrayList<>())
                .add(value);
    }

    /** One line per fork: its score and error, and secondary results such as a profiler's. */
    static String describe(int round, String pool, RunResult run) {
        Result<?> primary = run.getPrimaryResult();
        StringBuilder line = new StringBuilder(String.format(
                "round %2d  %-6s %-18s %s %s",
                round,
                pool,
                method(run),
                withError(primary.getScore(), primary.getScoreError(), "%.0f"),
                primary.getScoreUnit()));
        for (Map.Entry<String, Result> e : run.getSecondaryResults().entrySet()) {
            Result<?> r = e.getValue();
            line.append(String.format("; %s %.2f %s", e.getKey(), r.getScore(), r.getScoreUnit()));
        }
        return line.toString();
    }

    void print(PrintStream out) {
        out.printf(
                "%-18s %20s %20s %7s %13s %27s%n",
                "throughput", "HikariCP ops/s", "Baton ops/s", "ratio", "ratio range", "per-round ratio");
        values.forEach((method, metrics) -> {
            Map<String, Map<Integer, List<Double>>> m = metrics.get(THROUGHPUT);
            if (m == null || !m.containsKey("hikari") || !m.containsKey("baton")) {
                return;
            }
            ListStatistics h = statistics(m.get("hikari"));
            ListStatistics b = statistics(m.get("baton"));
            Ratio ratio = Ratio.of(b.getMean(), b.getMeanErrorAt(0.999), h.getMean(), h.getMeanErrorAt(0.999));
            List<Double> perRound = perRoundRatios(m.get("baton"), m.get("hikari"));
            out.printf(
                    "%-18s %20s %20s %7.3f %13s %27s%n",
                    method,
                    withError(h.getMean(), h.getMeanErrorAt(0.999), "%.0f"),
                    withError(b.getMean(), b.getMeanErrorAt(0.999), "%.0f"),
                    ratio.value(),
                    String.format("%.3f-%.3f", ratio.low(), ratio.high()),
                    String.format(
                            "median %.3f (%.3f-%.3f)",
                            median(perRound), perRound.get(0), perRound.get(perRound.size() - 1)));
        });
        out.println("  mean of all measured iterations of all rounds ± JMH's 99.9 % confidence half-width;"
                + " ratio range: the worst case of both errors");
        printCpu(out);
    }

    /** CPU per operation ({@link CpuProfiler}): what Baton adds, in microseconds. */
    private void printCpu(PrintStream out) {
        boolean header = false;
        for (Map.Entry<String, Map<String, Map<String, Map<Integer, List<Double>>>>> e : values.entrySet()) {
            for (String metric : List.of(CpuProfiler.THREAD, CpuProfiler.PROCESS)) {
                Map<String, Map<Integer, List<Double>>> m = e.getValue().get(metric);
                if (m == null || !m.containsKey("hikari") || !m.containsKey("baton")) {
                    continue;
                }
                if (!header) {
                    out.printf(
                            "%-18s %-12s %18s %18s %18s%n",
                            "CPU per operation", "of", "HikariCP µs/op", "Baton µs/op", "Baton adds µs/op");
                    header = true;
                }
                ListStatistics h = statistics(m.get("hikari"));
                ListStatistics b = statistics(m.get("baton"));
                double err = Math.hypot(h.getMeanErrorAt(0.999), b.getMeanErrorAt(0.999));
                out.printf(
                        "%-18s %-12s %18s %18s %18s%n",
                        e.getKey(),
                        metric.equals(CpuProfiler.THREAD) ? "the caller" : "the JVM",
                        withError(h.getMean(), h.getMeanErrorAt(0.999), "%.2f"),
                        withError(b.getMean(), b.getMeanErrorAt(0.999), "%.2f"),
                        withError(b.getMean() - h.getMean(), err, "%+.2f"));
            }
        }
        if (header) {
            out.println("  the caller: JMH's benchmark threads (driver and wrapper); the JVM: every thread, GC and JIT"
                    + " included; errors added in quadrature");
        }
    }

    private static List<Double> perRoundRatios(Map<Integer, List<Double>> baton, Map<Integer, List<Double>> hikari) {
        List<Double> ratios = new ArrayList<>();
        baton.forEach((round, b) -> {
            List<Double> h = hikari.get(round);
            if (h != null) {
                ratios.add(mean(b) / mean(h));
            }
        });
        ratios.sort(Double::compare);
        return ratios;
    }

    private static ListStatistics statistics(Map<Integer, List<Double>> rounds) {
        ListStatistics s = new ListStatistics();
        rounds.values().forEach(list -> list.forEach(s::addValue));
        return s;
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String method(RunResult run) {
        return run.getParams().getBenchmark().replaceAll(".*\\.", "");
    }

    private static String withError(double value, double error, String format) {
        return Double.isNaN(error)
                ? String.format(format, value)
                : String.format(format + " ± " + format.replace("+", ""), value, error);
    }
}
