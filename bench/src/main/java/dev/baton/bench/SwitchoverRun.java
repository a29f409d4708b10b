package dev.baton.bench;

import dev.baton.bench.Writer.Write;
import dev.baton.orchestrator.cli.BatonCli;
import dev.baton.registry.PrimaryRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/**
 * One planned switchover under write load, started the way an operator does it ({@code baton switchover
 * --yes}), and what the application saw: the write pause and any failed write.
 */
public final class SwitchoverRun {
    /**
     * @param pauseMs from the last write acknowledged by the old primary to the first acknowledged by the new one
     * @param failedWrites writes that started after the command was issued and failed
     */
    public record Result(
            int exitCode,
            String output,
            String from,
            String to,
            long epoch,
            long pauseMs,
            long failedWrites,
            long commandMs) {}

    private SwitchoverRun() {}

    /** Runs {@code baton switchover} in this JVM against the scenario's configuration and measures the writer. */
    public static Result run(FailoverScenario scenario, Writer writer, String... extraArgs) throws Exception {
        PrimaryRecord before = scenario.dataSource().currentPrimary().orElseThrow();
        int oldPort = scenario.node(before.nodeId()).port();
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(text, true));
        cli.setErr(new PrintWriter(text, true));
        String[] args = new String[4 + extraArgs.length];
        args[0] = "switchover";
        args[1] = "--config";
        args[2] = scenario.configFile().toString();
        args[3] = "--yes";
        System.arraycopy(extraArgs, 0, args, 4, extraArgs.length);
        long start = System.nanoTime();
        int exit = BatonCli.execute(cli, args);
        long commandMs = (System.nanoTime() - start) / 1_000_000;
        // Let the writer commit a few rows on whichever node is primary now.
        long acknowledged = writer.acknowledgedCount();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (writer.acknowledgedCount() < acknowledged + 20 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        PrimaryRecord after = scenario.dataSource().currentPrimary().orElseThrow();
        List<Write> writes = writer.writes();
        long lastOld = writes.stream()
                .filter(w -> w.acknowledged() && w.port() == oldPort)
                .mapToLong(Write::endNanos)
                .max()
                .orElse(start);
        long firstNew = writes.stream()
                .filter(w -> w.acknowledged() && w.port() != oldPort && w.endNanos() > start)
                .mapToLong(Write::endNanos)
                .min()
                .orElse(-1);
        long failed = writes.stream()
                .filter(w -> !w.acknowledged() && w.startNanos() >= start)
                .count();
        return new Result(
                exit,
                text.toString(),
                before.nodeId(),
                after.nodeId(),
                after.epoch(),
                firstNew < 0 ? -1 : (firstNew - lastOld) / 1_000_000,
                failed,
                commandMs);
    }
}
