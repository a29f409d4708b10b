package dev.baton.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "bench",
        description = "Benchmarks on real local clusters. 'failover': SIGKILL the primary N times under write load and"
                + " measure the time from the kill to the first write committed on the new primary.")
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "failover, switchover or overhead")
    String scenario;

    @Option(names = "--dialect", defaultValue = "postgresql", description = "postgresql or mariadb")
    String dialect;

    @Option(names = "--runs", defaultValue = "5", description = "how many crashes (default: ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--rate", defaultValue = "500", description = "writes per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!List.of("failover", "switchover", "overhead").contains(scenario)) {
            throw new IllegalArgumentException(
                    "bench: unknown scenario '" + scenario + "' (known: failover, switchover, overhead)");
        }
        if (runs < 1 || runs > 100) {
            throw new IllegalArgumentException("--runs: " + runs + " is out of range (1-100)");
        }
        BatonMain.quietLogs();
        PrintWriter out = spec.commandLine().getOut();
        if (scenario.equals("switchover")) {
            return switchovers(out);
        }
        if (scenario.equals("overhead")) {
            return OverheadBench.run(out, runs, 5, 2);
        }
        out.printf(
                "SIGKILL failover benchmark: %s, %d runs, %d writes/s through FailoverDataSource, %d cores%n",
                dialect, runs, rate, Runtime.getRuntime().availableProcessors());
        out.printf(
                "%4s %8s %8s %10s %9s %10s %12s %7s%n",
                "run", "from", "to", "detect ms", "promote ms", "publish ms", "1st write ms", "failed");
        List<Long> firstWrite = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            try (FailoverScenario s = FailoverScenario.prepare(dialect, step -> {})) {
                FailoverRun run = new FailoverRun(s);
                s.startOrchestratorAndApplication(run.listener(e -> {}), Duration.ofSeconds(30));
                try (Writer writer = new Writer(s.dataSource(), dialect, rate).start()) {
                    // A random moment within the orchestrator's poll cycle, as a real crash would be.
                    Thread.sleep(2000
                            + java.util.concurrent.ThreadLocalRandom.current().nextInt(500));
                    FailoverRun.Result r = run.crashPrimary(writer, Duration.ofSeconds(60));
                    firstWrite.add(r.firstWriteMs());
                    out.printf(
                            "%4d %8s %8s %10d %9d %10d %12d %7d%n",
                            i,
                            r.oldPrimary(),
                            r.newPrimary(),
                            r.detectedMs(),
                            r.promotedMs(),
                            r.publishedMs(),
                            r.firstWriteMs(),
                            r.failedWrites());
                    out.println("       steps: " + stepsOf(s));
                    out.flush();
                }
            }
        }
        out.printf(
                "kill -9 to first committed write on the new primary: median %d ms, min %d ms, max %d ms (%d runs)%n",
                FailoverRun.median(firstWrite),
                firstWrite.stream().min(Long::compare).orElseThrow(),
                firstWrite.stream().max(Long::compare).orElseThrow(),
                runs);
        return 0;
    }

    /** N planned switchovers back and forth on one cluster under write load. */
    private int switchovers(PrintWriter out) throws Exception {
        out.printf(
                "planned switchover benchmark: %s, %d switchovers, %d writes/s through FailoverDataSource, %d cores%n",
                dialect, runs, rate, Runtime.getRuntime().availableProcessors());
        out.printf(
                "%4s %8s %8s %6s %14s %13s %11s%n",
                "run", "from", "to", "epoch", "write pause ms", "failed writes", "command ms");
        List<Long> pauses = new ArrayList<>();
        long failed = 0;
        try (FailoverScenario s = FailoverScenario.prepare(dialect, step -> {})) {
            s.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            try (Writer writer = new Writer(s.dataSource(), dialect, rate).start()) {
                Thread.sleep(2000);
                for (int i = 1; i <= runs; i++) {
                    String current =
                            s.dataSource().currentPrimary().orElseThrow().nodeId();
                    String target = s.cluster().nodes().stream()
                            .map(n -> n.id())
                            .filter(id -> !id.equals(current))
                            .findFirst()
                            .orElseThrow();
                    SwitchoverRun.Result r = SwitchoverRun.run(s, writer, "--to", target);
                    if (r.exitCode() != 0) {
                        out.println("switchover " + i + " did not succeed:\n" + r.output());
                        return 1;
                    }
                    pauses.add(r.pauseMs());
                    failed += r.failedWrites();
                    out.printf(
                            "%4d %8s %8s %6d %14d %13d %11d%n",
                            i, r.from(), r.to(), r.epoch(), r.pauseMs(), r.failedWrites(), r.commandMs());
                    out.flush();
                    Thread.sleep(1000);
                }
                writer.close();
                String last = s.dataSource().currentPrimary().orElseThrow().nodeId();
                java.util.Set<Long> present = new java.util.HashSet<>();
                try (var c = java.sql.DriverManager.getConnection(
                                s.node(last).jdbcUrl(),
                                s.cluster().user(),
                                s.cluster().password());
                        var st = c.createStatement();
                        var rs = st.executeQuery("SELECT id FROM baton_writes")) {
                    while (rs.next()) {
                        present.add(rs.getLong(1));
                    }
                }
                long lost = writer.writes().stream()
                        .filter(w -> w.acknowledged() && !present.contains(w.id()))
                        .count();
                out.printf(
                        "write pause: median %d ms, max %d ms; failed writes %d; acknowledged writes lost %d of %d"
                                + " (%d switchovers)%n",
                        FailoverRun.median(pauses),
                        pauses.stream().max(Long::compare).orElseThrow(),
                        failed,
                        lost,
                        writer.acknowledgedCount(),
                        runs);
            }
        }
        return 0;
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
                .collect(java.util.stream.Collectors.joining(", ", "", " ms"));
    }
}
