package dev.baton.bench;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.PrimaryRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        description = "Start a local cluster, ZooKeeper, the orchestrator and a writing application; kill the primary"
                + " with SIGKILL and watch Baton fail over. Everything is removed at the end (also on Ctrl-C).")
final class DemoCommand implements Callable<Integer> {
    @Option(
            names = "--dialect",
            defaultValue = "postgresql",
            description = "postgresql or mariadb (default: ${DEFAULT-VALUE})")
    String dialect;

    @Option(
            names = "--kill-after",
            defaultValue = "5",
            description = "seconds of normal writing before the kill (default: ${DEFAULT-VALUE}); Enter kills at once")
    int killAfter;

    @Option(
            names = "--after",
            defaultValue = "5",
            description = "seconds to keep writing after the failover (default: ${DEFAULT-VALUE})")
    int after;

    @Option(names = "--rate", defaultValue = "500", description = "writes per second (default: ${DEFAULT-VALUE})")
    int rate;

    @Spec
    CommandSpec spec;

    /** Set by the Ctrl-C hook: the demo's own output stops, the cleanup speaks. */
    private static volatile boolean stopping;

    @Override
    public Integer call() throws Exception {
        if (killAfter < 1 || after < 1 || rate < 1 || rate > 5000) {
            throw new IllegalArgumentException("--kill-after and --after must be at least 1, --rate 1-5000");
        }
        BatonMain.quietLogs();
        PrintWriter out = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        try (FailoverScenario scenario = FailoverScenario.prepare(dialect, step -> say(out, t0, step))) {
            // On Ctrl-C the sandbox's own hooks stop the servers at the same time: what the orchestrator and the
            // wrapper then say about lost connections is noise, not news.
            Thread cleanup = new Thread(
                    () -> {
                        stopping = true;
                        BatonMain.silenceLogs();
                        say(out, t0, "interrupted: stopping every server and removing the sandbox ...");
                        scenario.close();
                    },
                    "baton-demo-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            FailoverRun run = new FailoverRun(scenario);
            say(out, t0, "starting the orchestrator (polls every node every 500 ms) ...");
            PrimaryRecord primary = scenario.startOrchestratorAndApplication(
                    run.listener(event -> printEvent(out, run, event)), Duration.ofSeconds(30));
            say(
                    out,
                    t0,
                    "cluster '" + FailoverScenario.CLUSTER + "': primary " + primary.nodeId() + " at "
                            + primary.address() + ", epoch " + primary.epoch() + "; replicas "
                            + scenario.cluster().nodes().stream()
                                    .map(n -> n.id() + "@" + n.port())
                                    .filter(s -> !s.startsWith(primary.nodeId() + "@"))
                                    .toList());
            say(out, t0, "try in another terminal: bin/baton status --config " + scenario.configFile());
            try (Writer writer = new Writer(scenario.dataSource(), dialect, rate).start()) {
                say(
                        out,
                        t0,
                        "the application writes " + rate
                                + " rows/s through Baton's FailoverDataSource (jdbc:baton:zk://"
                                + scenario.zooKeeper().connectString() + "/" + FailoverScenario.CLUSTER + ")");
                CountDownLatch enter = new CountDownLatch(1);
                if (System.console() != null) {
                    Thread reader = new Thread(
                            () -> {
                                try {
                                    System.in.read();
                                    enter.countDown();
                                } catch (Exception ignored) {
                                    // no input: wait for the timer
                                }
                            },
                            "baton-demo-enter");
                    reader.setDaemon(true);
                    reader.start();
                    say(out, t0, "press Enter to kill the primary now, or wait " + killAfter + " s");
                }
                printRates(out, t0, writer, scenario, killAfter, enter);
                say(out, t0, ">>> kill -9 " + primary.nodeId() + " (the primary)");
                FailoverRun.Result r = run.crashPrimary(writer, Duration.ofSeconds(60));
                say(
                        out,
                        t0,
                        "+" + r.firstWriteMs() + " ms  the application's first write committed on " + r.newPrimary()
                                + " (row id " + r.firstWrite().id() + ")");
                printRates(out, t0, writer, scenario, after, new CountDownLatch(1));
                out.println();
                out.println("Summary");
                out.println("  crashed primary            " + r.oldPrimary());
                out.println("  new primary                " + r.newPrimary() + " (epoch " + r.newEpoch() + ")");
                out.println("  detected dead after        " + r.detectedMs() + " ms");
                out.println("  promoted after             " + r.promotedMs() + " ms");
                out.println("  published after            " + r.publishedMs() + " ms");
                out.println("  first write on new primary " + r.firstWriteMs() + " ms after the kill");
                out.println("  writes failed meanwhile    " + r.failedWrites()
                        + " (autocommit writes in flight when the primary died)");
                out.println("  writes acknowledged        " + writer.acknowledgedCount());
            }
            Runtime.getRuntime().removeShutdownHook(cleanup);
            say(out, t0, "stopping everything and removing the sandbox ...");
        }
        say(out, t0, "done: every server stopped, every sandbox directory removed");
        return 0;
    }

    private static void printRates(
            PrintWriter out, long t0, Writer writer, FailoverScenario scenario, int seconds, CountDownLatch enter)
            throws InterruptedException {
        long last = writer.acknowledgedCount();
        for (int i = 0; i < seconds; i++) {
            if (enter.await(1, TimeUnit.SECONDS)) {
                return;
            }
            long now = writer.acknowledgedCount();
            PrimaryRecord p = scenario.dataSource().currentPrimary().orElseThrow();
            say(
                    out,
                    t0,
                    String.format(
                            "%5d writes/s on %s (epoch %d), %d failed so far",
                            now - last, p.nodeId(), p.epoch(), writer.failedCount()));
            last = now;
        }
    }

    private static void printEvent(PrintWriter out, FailoverRun run, ClusterEvent event) {
        if (stopping) {
            return;
        }
        switch (event.kind()) {
            case PRIMARY_SUSPECT,
                    PRIMARY_DEAD,
                    FAILOVER_STARTED,
                    PROMOTED,
                    PUBLISHED,
                    REPOINTED,
                    FAILOVER_FINISHED,
                    FAILOVER_REFUSED,
                    HOLD_ACKNOWLEDGED,
                    FENCED -> {
                out.println("            +" + run.sinceKillMs() + " ms  orchestrator: " + event.message());
                out.flush();
            }
            default -> {}
        }
    }

    private static void say(PrintWriter out, long t0, String text) {
        if (stopping && !text.startsWith("interrupted")) {
            return;
        }
        out.printf("[%6.1f s] %s%n", (System.nanoTime() - t0) / 1e9, text);
        out.flush();
    }
}
