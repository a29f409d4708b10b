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
        description = "Benchmarks on real local clusters. 'failover': SIGKILL the primary under write load and measure"
                + " the time from the kill to the first write committed on the new primary; 'hang': the same with"
                + " SIGSTOP, then SIGCONT and check that the old primary is fenced; 'switchover': planned"
                + " switchovers; 'overhead': the wrapper against plain HikariCP in paired blocks; 'jmh': the same"
                + " with JMH (bin/baton bench jmh --help); 'fanout': how fast a new primary reaches 1,000 wrapper"
                + " clients, each with its own ZooKeeper session.")
final class BenchCommand implements Callable<Integer> {
    private static final List<String> SCENARIOS =
            List.of("failover", "hang", "switchover", "overhead", "matrix", "fanout", "jmh");

    @Parameters(index = "0", description = "failover, hang, switchover, overhead, matrix, fanout or jmh")
    String scenario;

    @Option(names = "--dialect", defaultValue = "postgresql", description = "postgresql or mariadb (matrix: also both)")
    String dialect;

    @Option(
            names = "--only",
            split = ",",
            description = "matrix: only the cases whose name starts with one of these (comma-separated)")
    List<String> only = new ArrayList<>();

    @Option(
            names = "--out",
            defaultValue = "matrix",
            description = "matrix: write OUT.md and OUT.json (default: ${DEFAULT-VALUE})")
    String outPrefix;

    @Option(
            names = "--runs",
            description = "how many runs (default: 10 for failover and hang, 5 for switchover, overhead and fanout)")
    Integer runs;

    @Option(
            names = "--warmup",
            description =
                    "fanout: rounds run first and printed, but left out of the summary (default: ${DEFAULT-VALUE})")
    int warmup = 10;

    @Option(
            names = "--clients",
            defaultValue = "1000",
            description = "fanout: FailoverDataSources watching the cluster, each with its own ZooKeeper session"
                    + " (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(
            names = "--probes",
            defaultValue = "20",
            description = "fanout: how many of the clients borrow a connection right after each change and check it"
                    + " is the new primary's (default: ${DEFAULT-VALUE}; PostgreSQL's default max_connections is 100)")
    int probes;

    @Option(
            names = "--zookeepers",
            defaultValue = "3",
            description = "fanout: ZooKeeper servers in the ensemble, 1 or 3 (default: ${DEFAULT-VALUE})")
    int zookeepers;

    @Option(
            names = "--no-lease",
            description = "fanout: build the clients with lease(false), to see what the lease's ZooKeeper pings cost")
    boolean noLease;

    @Option(
            names = "--null-test",
            description = "overhead: measure plain HikariCP against another plain HikariCP pool, to see the method's"
                    + " own bias")
    boolean nullTest;

    @Option(
            names = "--bare-zookeeper",
            description = "fanout: the clients are plain ZooKeeper handles that watch and re-read the primary record,"
                    + " no Baton: the floor any ZooKeeper-watching client has on this machine")
    boolean bareZooKeeper;

    @Option(
            names = "--rate",
            description = "writes per second (default: 500; matrix: per writer thread, 4 threads, default 100)")
    Integer rate;

    @Option(
            names = "--agent",
            description = "failover, hang: run a baton agent beside every node (a process of its own, fence: stop;"
                    + " for hang with killHungServer: true), and measure against the agent's targets")
    boolean agent;

    @Option(
            names = "--tuned",
            description = "run the servers with the tuned profile (short replication receiver timeouts) instead of"
                    + " their defaults")
    boolean tuned;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!SCENARIOS.contains(scenario)) {
            throw new IllegalArgumentException(
                    "bench: unknown scenario '" + scenario + "' (known: " + String.join(", ", SCENARIOS) + ")");
        }
        int n = runs != null ? runs : scenario.equals("failover") || scenario.equals("hang") ? 10 : 5;
        if (n < 1 || n > 100) {
            throw new IllegalArgumentException("--runs: " + n + " is out of range (1-100)");
        }
        int rate = this.rate != null ? this.rate : scenario.equals("matrix") ? 100 : 500;
        if (rate < 1 || rate > 5000) {
            throw new IllegalArgumentException("--rate: " + rate + " is out of range (1-5000)");
        }
        ServerProfile profile = tuned ? ServerProfile.TUNED : ServerProfile.DEFAULTS;
        BatonMain.quietLogs();
        PrintWriter out = spec.commandLine().getOut();
        if (scenario.equals("matrix")) {
            if (tuned) {
                throw new IllegalArgumentException("--tuned: the fault matrix runs the servers at their defaults only");
            }
            List<String> dialects = dialect.equals("both") ? List.of("postgresql", "mariadb") : List.of(dialect);
            return new MatrixBench(out, dialects, only, runs != null ? runs : 1, rate)
                    .run(java.nio.file.Path.of(outPrefix));
        }
        if (scenario.equals("jmh")) {
            out.println("bench jmh runs from its own jar, which bin/baton builds and starts:"
                    + " bin/baton bench jmh --help, or java -jar jmh/target/baton-jmh.jar --help");
            return 2;
        }
        if (scenario.equals("overhead")) {
            return OverheadBench.run(out, n, 20, nullTest);
        }
        if (scenario.equals("fanout")) {
            if (clients < 1 || clients > 5000) {
                throw new IllegalArgumentException("--clients: " + clients + " is out of range (1-5000)");
            }
            if (probes < 0 || probes > 50) {
                throw new IllegalArgumentException("--probes: " + probes + " is out of range (0-50)");
            }
            if (zookeepers < 1 || zookeepers > 5) {
                throw new IllegalArgumentException("--zookeepers: " + zookeepers + " is out of range (1-5)");
            }
            if (warmup < 0 || warmup > 50) {
                throw new IllegalArgumentException("--warmup: " + warmup + " is out of range (0-50)");
            }
            // 1,000 data sources would each log every lease expiry and suspended session: the percentiles show them
            if (System.getenv("BATON_LOG_LEVEL") == null
                    && org.slf4j.LoggerFactory.getLogger("dev.baton.jdbc")
                            instanceof ch.qos.logback.classic.Logger wrapper) {
                wrapper.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
            return new FanoutBench(out, clients, bareZooKeeper ? 0 : probes, zookeepers, !noLease, bareZooKeeper)
                    .run(warmup, n);
        }
        Fault fault = scenario.equals("hang") ? Fault.HANG : Fault.CRASH;
        if (agent && !(scenario.equals("failover") || scenario.equals("hang"))) {
            throw new IllegalArgumentException("--agent: only for failover and hang, not " + scenario);
        }
        out.printf(
                "%s benchmark: %s on %s, %d %s, %d writes/s through FailoverDataSource, %d cores%s%n",
                scenario.equals("switchover") ? "planned switchover" : fault.signal() + " failover",
                dialect,
                profile.describe(dialect),
                n,
                (scenario.equals("switchover") ? "switchover" : "run") + (n == 1 ? "" : "s"),
                rate,
                Runtime.getRuntime().availableProcessors(),
                agent ? ", a baton agent beside every node" + (fault == Fault.HANG ? " (killHungServer)" : "") : "");
        if (scenario.equals("switchover")) {
            return switchovers(out, n, profile, rate);
        }
        return new FaultBench(out, fault, dialect, profile, rate, agent).run(n);
    }

    private static void awaitRejoined(FailoverScenario s, String node, Duration timeout) throws Exception {
        try (var client = dev.baton.registry.RegistryClient.start(
                s.zooKeeper().connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            var registry = new dev.baton.orchestrator.coordination.ClusterRegistry(client, FailoverScenario.CLUSTER);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                boolean rejoined = registry.readNodeStates().stream()
                        .anyMatch(n -> n.nodeId().equals(node) && !n.needsRejoin() && n.streaming());
                if (rejoined) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException(node + " was not rejoined as a streaming replica within " + timeout);
        }
    }

    /** N planned switchovers back and forth on one cluster under write load. */
    private int switchovers(PrintWriter out, int runs, ServerProfile profile, int rate) throws Exception {
        out.printf(
                "%4s %8s %8s %6s %14s %13s %11s%n",
                "run", "from", "to", "epoch", "write pause ms", "failed writes", "command ms");
        List<Long> pauses = new ArrayList<>();
        long failed = 0;
        try (FailoverScenario s = FailoverScenario.prepare(dialect, profile, step -> {})) {
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
                    // The old primary is rejoined in the background; the next switchover may target it once it
                    // streams again as a replica (an operator would watch 'baton status').
                    awaitRejoined(s, r.from(), Duration.ofSeconds(60));
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
                        Percentiles.median(pauses),
                        pauses.stream().max(Long::compare).orElseThrow(),
                        failed,
                        lost,
                        writer.acknowledgedCount(),
                        runs);
            }
        }
        return 0;
    }
}
