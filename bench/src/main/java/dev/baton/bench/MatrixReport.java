package dev.baton.bench;

import dev.baton.registry.RegistryJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The fault matrix's table: one row per case and dialect over its runs, as Markdown and as JSON. A row's expectation
 * is met when no run had a split-brain write, a false failover, other than one writable primary at the end, a
 * diverged replica, too few promotions, or (switchover cases) an acknowledged write lost or (a planned switchover) an
 * application error.
 */
final class MatrixReport {
    /** One row of the table. */
    record Row(
            String scenario,
            String dialect,
            String fault,
            String expected,
            int runs,
            int failedRuns,
            String recoveryMedianMs,
            String recoveryMaxMs,
            long longestWriteGapMs,
            long acknowledged,
            String lostAcknowledged,
            String uncertainCommits,
            long splitBrainWrites,
            String promotions,
            long falseFailovers,
            String writablePrimariesAtEnd,
            List<String> divergedReplicas,
            Map<String, Long> applicationErrors,
            boolean met,
            List<String> notes) {}

    private final List<Row> rows = new ArrayList<>();

    /** Adds the row for the runs of one case on one dialect. */
    Row add(MatrixCase c, String dialect, List<MatrixRun.Outcome> runs) {
        List<Consistency.Report> reports = runs.stream()
                .filter(o -> o.report() != null)
                .map(MatrixRun.Outcome::report)
                .toList();
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            MatrixRun.Outcome o = runs.get(i);
            String prefix = runs.size() == 1 ? "" : "run " + (i + 1) + ": ";
            if (o.error() != null) {
                notes.add(prefix + "run failed: " + o.error());
            }
            o.notes().forEach(n -> notes.add(prefix + n));
        }
        List<Long> recoveries = reports.stream()
                .map(r -> r.recoveryMs() < 0 ? Percentiles.MISSED : r.recoveryMs())
                .toList();
        Map<String, Long> errors = new TreeMap<>();
        reports.forEach(r -> r.errors().forEach((k, v) -> errors.merge(k, v, Long::sum)));
        List<String> diverged =
                reports.stream().flatMap(r -> r.diverged().stream()).toList();
        // a planned switchover loses nothing and surfaces no error; killing its leader may cost errors, not writes
        boolean zeroLoss = c == MatrixCase.SWITCHOVER || c.id().startsWith("leader-sigkill-switchover");
        boolean noErrors = c == MatrixCase.SWITCHOVER;
        boolean met = reports.size() == runs.size()
                && reports.stream()
                        .allMatch(r -> r.splitBrain() == 0
                                && r.falseFailovers() == 0
                                && r.writablePrimaries() == 1
                                && r.diverged().isEmpty()
                                && r.promotions() >= c.minPromotions()
                                && (!zeroLoss
                                        || (r.lostAcknowledged() == 0
                                                && r.errors().isEmpty())));
        Row row = new Row(
                c.id(),
                dialect,
                c.fault(),
                c.expected(),
                runs.size(),
                runs.size() - reports.size(),
                recoveries.isEmpty() ? "-" : millis(Percentiles.median(recoveries)),
                recoveries.isEmpty() ? "-" : millis(Percentiles.max(recoveries)),
                reports.stream()
                        .mapToLong(Consistency.Report::longestGapMs)
                        .max()
                        .orElse(-1),
                reports.stream().mapToLong(Consistency.Report::acknowledged).sum(),
                sum(reports.stream().map(Consistency.Report::lostAcknowledged).toList()),
                sum(reports.stream().map(Consistency.Report::uncertain).toList()),
                reports.stream().mapToLong(Consistency.Report::splitBrain).sum(),
                reports.stream().map(r -> Long.toString(r.promotions())).collect(Collectors.joining(",")),
                reports.stream().mapToLong(Consistency.Report::falseFailovers).sum(),
                reports.stream()
                        .map(r -> Integer.toString(r.writablePrimaries()))
                        .collect(Collectors.joining(",")),
                diverged,
                errors,
                met,
                notes);
        rows.add(row);
        return row;
    }

    List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The sum, or "n/a" when a run's final primary did not answer. */
    private static String sum(List<Long> values) {
        return values.contains(Consistency.UNKNOWN)
                ? "n/a (final primary down)"
                : Long.toString(values.stream().mapToLong(Long::longValue).sum());
    }

    private static String millis(long ms) {
        return ms == Percentiles.MISSED ? "none" : Long.toString(ms);
    }

    String json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("rows", rows);
        return RegistryJson.writePretty(doc);
    }

    /** The table, then the notes of each row. */
    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("| scenario | dialect | runs | recovery median / max ms | longest write gap ms | acked"
                + " | lost acked | uncertain | split-brain | promotions | false failovers | writable at end"
                + " | app errors (SQLState: n) | expectation |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append("| ")
                    .append(r.scenario())
                    .append(" | ")
                    .append(r.dialect())
                    .append(" | ")
                    .append(r.runs())
                    .append(r.failedRuns() > 0 ? " (" + r.failedRuns() + " failed)" : "")
                    .append(" | ")
                    .append(r.recoveryMedianMs())
                    .append(" / ")
                    .append(r.recoveryMaxMs())
                    .append(" | ")
                    .append(r.longestWriteGapMs())
                    .append(" | ")
                    .append(r.acknowledged())
                    .append(" | ")
                    .append(r.lostAcknowledged())
                    .append(" | ")
                    .append(r.uncertainCommits())
                    .append(" | ")
                    .append(r.splitBrainWrites())
                    .append(" | ")
                    .append(r.promotions())
                    .append(" | ")
                    .append(r.falseFailovers())
                    .append(" | ")
                    .append(r.writablePrimariesAtEnd())
                    .append(" | ")
                    .append(
                            r.applicationErrors().isEmpty()
                                    ? "0"
                                    : r.applicationErrors().entrySet().stream()
                                            .map(e -> e.getKey() + ": " + e.getValue())
                                            .collect(Collectors.joining(", ")))
                    .append(" | ")
                    .append(r.met() ? "met" : "**not met**")
                    .append(" |\n");
        }
        md.append("\n");
        for (Row r : rows) {
            md.append("- **")
                    .append(r.scenario())
                    .append("** (")
                    .append(r.dialect())
                    .append("): ");
            md.append(r.fault()).append(". Expected: ").append(r.expected()).append(".");
            if (!r.divergedReplicas().isEmpty()) {
                md.append(" Diverged: ")
                        .append(String.join(", ", r.divergedReplicas()))
                        .append(".");
            }
            if (!r.notes().isEmpty()) {
                md.append(" ").append(String.join("; ", r.notes())).append(".");
            }
            md.append("\n");
        }
        return md.toString();
    }
}
