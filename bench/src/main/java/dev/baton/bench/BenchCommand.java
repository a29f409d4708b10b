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
    @Parameters(index = "0", description = "failover")
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
        if (!scenario.equals("failover")) {
            throw new IllegalArgumentException("bench: unknown scenario '" + scenario + "' (known: failover)");
        }
        if (runs < 1 || runs > 100) {
            throw new IllegalArgumentException("--runs: " + runs + " is out of range (1-100)");
        }
        BatonMain.quietLogs();
        PrintWriter out = spec.commandLine().getOut();
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
                    Thread.sleep(2000);
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
}
