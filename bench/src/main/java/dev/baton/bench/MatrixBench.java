package dev.baton.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bench matrix}: every {@link MatrixCase} (or those {@code --only} names) on each dialect, {@code runs} times,
 * each on a fresh cluster; prints a line per run and writes the table as Markdown and JSON.
 */
final class MatrixBench {
    /**
     * pgjdbc logs a stack trace through java.util.logging for every socket a cut link breaks: thousands of lines that
     * say nothing the table does not. Held here, as java.util.logging keeps loggers only weakly.
     */
    private static final java.util.logging.Logger PGJDBC = java.util.logging.Logger.getLogger("org.postgresql");

    private final PrintWriter out;
    private final List<String> dialects;
    private final List<MatrixCase> cases;
    private final int runs;
    private final int rate;

    MatrixBench(PrintWriter out, List<String> dialects, List<String> only, int runs, int rate) {
        this.out = out;
        this.dialects = dialects;
        this.cases = MatrixCase.matching(only);
        if (cases.isEmpty()) {
            throw new IllegalArgumentException("--only: " + only + " names no case (known: "
                    + String.join(
                            ", ",
                            MatrixCase.matching(List.of()).stream()
                                    .map(MatrixCase::id)
                                    .toList()) + ")");
        }
        this.runs = runs;
        this.rate = rate;
    }

    int run(Path prefix) throws IOException {
        PGJDBC.setLevel(java.util.logging.Level.OFF);
        out.printf(
                "fault matrix: %d case(s) x %s, %d run(s) each, server defaults, apps A and B each writing %d rows/s"
                        + " through FailoverDataSource and a kept jdbc:baton: connection, %d cores%n",
                cases.size(),
                String.join(" + ", dialects),
                runs,
                rate,
                Runtime.getRuntime().availableProcessors());
        out.flush();
        MatrixReport report = new MatrixReport();
        for (String dialect : dialects) {
            for (MatrixCase c : cases) {
                List<MatrixRun.Outcome> outcomes = new ArrayList<>();
                for (int i = 1; i <= runs; i++) {
                    long start = System.nanoTime();
                    MatrixRun.Outcome o = MatrixRun.run(c, dialect, rate, line -> {});
                    outcomes.add(o);
                    out.printf(
                            "%-38s %-10s run %d (%d s): %s%n",
                            c.id(), dialect, i, (System.nanoTime() - start) / 1_000_000_000L, summary(o));
                    out.flush();
                }
                MatrixReport.Row row = report.add(c, dialect, outcomes);
                out.printf("%-38s %-10s %s%n", c.id(), dialect, row.met() ? "expectation met" : "NOT MET");
                out.flush();
                // written after every case, so that an interrupted matrix leaves what it measured
                Files.writeString(prefix.resolveSibling(prefix.getFileName() + ".md"), report.markdown());
                Files.writeString(prefix.resolveSibling(prefix.getFileName() + ".json"), report.json());
            }
        }
        out.printf("wrote %s.md and %s.json%n", prefix, prefix);
        out.flush();
        return report.rows().stream().allMatch(MatrixReport.Row::met) ? 0 : 3;
    }

    private static String summary(MatrixRun.Outcome o) {
        if (o.report() == null) {
            return "FAILED: " + o.error();
        }
        Consistency.Report r = o.report();
        return String.format(
                "recovery %s ms, gap %d ms, acked %d, lost %d, uncertain %d, split-brain %d, promotions %d, false %d,"
                        + " writable %d, diverged %s, errors %s, primary %s; %s",
                r.recoveryMs() < 0 ? "none" : Long.toString(r.recoveryMs()),
                r.longestGapMs(),
                r.acknowledged(),
                r.lostAcknowledged(),
                r.uncertain(),
                r.splitBrain(),
                r.promotions(),
                r.falseFailovers(),
                r.writablePrimaries(),
                r.diverged(),
                r.errors(),
                r.finalPrimary(),
                String.join("; ", o.notes()));
    }
}
