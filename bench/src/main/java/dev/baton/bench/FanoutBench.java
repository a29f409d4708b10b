package dev.baton.bench;

import dev.baton.jdbc.FailoverDataSource;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.registry.EpochNode;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.SandboxNode;
import dev.baton.sandbox.ZooKeeperEnsemble;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.curator.framework.CuratorFramework;

/**
 * Fan-out of a primary change: N {@link FailoverDataSource}s, each with its own ZooKeeper session, watch one
 * cluster; the benchmark publishes a new primary record the way the orchestrator does (a versioned write in a
 * transaction) and measures, per client, the time from just before that write to the moment the data source
 * switched its borrows to the new primary.
 *
 * <p>"Switched" is the data source's primary change listener: it is called after the data source has made the new
 * primary's pool the one {@code getConnection()} borrows from, so every borrow that starts after it goes to the new
 * node. Opening the first physical connection there is the database's work and the same without Baton; with 1,000
 * clients it would measure PostgreSQL's connection rate, and exceed its default {@code max_connections}. So the
 * first {@code probes} clients also borrow a connection as soon as their listener fires and check with
 * {@code inet_server_port()} that it is the new primary's; that time is reported separately.
 *
 * <p>Clients run with {@code minimumIdle 0, maximumPoolSize 1}: apart from the probes they open no connection.
 */
final class FanoutBench {
    private static final String CLUSTER = "fanout";
    private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(30);

    private final PrintWriter out;
    private final int clients;
    private final int probes;
    private final int zookeepers;
    private final boolean lease;
    /** The clients are plain ZooKeeper handles, not data sources: the baseline. */
    private final boolean bare;

    private volatile boolean closing;

    FanoutBench(PrintWriter out, int clients, int probes, int zookeepers, boolean lease, boolean bare) {
        this.out = out;
        this.clients = clients;
        this.probes = Math.min(probes, clients);
        this.zookeepers = zookeepers;
        this.lease = lease;
        this.bare = bare;
    }

    /**
     * Runs {@code warmup} rounds, printed but left out of the summary, then {@code rounds} measured ones. Warm-up
     * matters more here than on a real fleet: the 1,000 clients share one JVM, so their first changes make the JIT
     * compile the switch, pool and connection code in the middle of the burst, where 1,000 hosts would each run it
     * once, interpreted, in microseconds.
     */
    int run(int warmup, int rounds) throws Exception {
        int total = warmup + rounds;
        out.printf(
                "fan-out: %d %s in one JVM, %d ZooKeeper server(s) in process, %d warm-up and %d measured rounds; %d"
                        + " cores, load average %s%n",
                clients,
                bare
                        ? "plain ZooKeeper clients (own session each; a recursive watch on the epochs node, the record"
                                + " parsed from the event; no Baton, no lease)"
                        : "FailoverDataSources (own ZooKeeper session each, lease " + (lease ? "on (2 s)" : "off")
                                + ", minimumIdle 0, maximumPoolSize 1)",
                zookeepers,
                warmup,
                rounds,
                Runtime.getRuntime().availableProcessors(),
                LoadAverage.read());
        out.flush();
        try (LocalCluster cluster = LocalCluster.start("postgresql", 1, ServerProfile.DEFAULTS);
                ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(zookeepers, true);
                CuratorFramework admin = RegistryClient.start(
                        zk.connectString(),
                        RegistryPaths.DEFAULT_NAMESPACE,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(3))) {
            if (!admin.blockUntilConnected(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no connection to ZooKeeper " + zk.connectString());
            }
            List<? extends SandboxNode> nodes = cluster.nodes();
            // published as the orchestrator publishes: under the cluster lock, with the record's epoch node
            ClusterRegistry registry = new ClusterRegistry(admin, CLUSTER);
            ClusterLock lock = new ClusterLock(admin, RegistryPaths.lock(CLUSTER));
            lock.acquire();
            registry.publishFirst(record(nodes.get(0), 1));
            Clients fleet = new Clients(cluster, zk.connectString(), total + 1);
            BareClients bareFleet = bare ? new BareClients(fleet, zk.connectString()) : null;
            try {
                long start = System.nanoTime();
                if (bare) {
                    bareFleet.start();
                } else {
                    fleet.start();
                }
                fleet.awaitEpoch(1, Duration.ofSeconds(180));
                out.printf(
                        "%d clients started and saw epoch 1 in %.1f s; %d threads in this JVM%n",
                        clients, (System.nanoTime() - start) / 1e9, Thread.activeCount());
                out.printf(
                        "idle: this JVM (clients and ZooKeeper) uses %.0f %% of one core; load average %s%n",
                        idleCpuPercent(Duration.ofSeconds(5)), LoadAverage.read());
                out.printf(
                        "%5s %6s %5s %8s %8s %10s %10s %10s %10s %12s %8s %22s%n",
                        "round",
                        "epoch",
                        "to",
                        "cpu ms",
                        "jit ms",
                        "write ms",
                        "p50 ms",
                        "p99 ms",
                        "max ms",
                        "p99 ack ms",
                        "missed",
                        "probes p50/max ms");
                out.flush();
                List<Long> warmingUp = new ArrayList<>();
                List<Long> measured = new ArrayList<>();
                List<Long> measuredProbes = new ArrayList<>();
                int missed = 0;
                for (int round = 1; round <= total; round++) {
                    long epoch = round + 1;
                    SandboxNode target = nodes.get(round % 2);
                    fleet.expect(epoch, target.port());
                    Versioned<PrimaryRecord> current = registry.readPrimary().orElseThrow();
                    PrimaryRecord next = record(target, epoch);
                    // as a failover does: the operation is recorded before the promotion, and the publication deletes
                    // it in its transaction
                    registry.writeOperation(
                            OperationRecord.start(
                                            "failover",
                                            "fanout-" + epoch,
                                            current.value().nodeId(),
                                            current.value().epoch(),
                                            Instant.now())
                                    .promoting(target.id(), null),
                            lock.heldPath());
                    int version = current.version();
                    long cpuBefore = processCpuNanos();
                    long jitBefore = jitMillis();
                    long published = System.nanoTime();
                    registry.publish(next, version, lock.heldPath());
                    long acknowledged = System.nanoTime();
                    fleet.awaitEpoch(epoch, ROUND_TIMEOUT);
                    long cpu = processCpuNanos() - cpuBefore;
                    long jit = jitMillis() - jitBefore;
                    List<Long> micros = fleet.switchMicros(epoch, published);
                    List<Long> probeMicros = fleet.probeMicros(epoch, published, ROUND_TIMEOUT);
                    long roundMissed =
                            micros.stream().filter(m -> m == Percentiles.MISSED).count();
                    missed += (int) roundMissed;
                    if (round <= warmup) {
                        warmingUp.addAll(micros);
                    } else {
                        measured.addAll(micros);
                        measuredProbes.addAll(probeMicros);
                    }
                    List<Long> fromAck = fleet.switchMicros(epoch, acknowledged);
                    out.printf(
                            "%5d %6d %5s %8.0f %8d %10.1f %10s %10s %10s %12s %8d %22s%s%n",
                            round,
                            epoch,
                            target.id(),
                            cpu / 1e6,
                            jit,
                            (acknowledged - published) / 1e6,
                            ms(Percentiles.percentile(micros, 50)),
                            ms(Percentiles.percentile(micros, 99)),
                            ms(Percentiles.max(micros)),
                            ms(Percentiles.percentile(fromAck, 99)),
                            roundMissed,
                            probeMicros.isEmpty()
                                    ? "-"
                                    : ms(Percentiles.percentile(probeMicros, 50)) + " / "
                                            + ms(Percentiles.max(probeMicros)),
                            round <= warmup ? "  warm-up" : "");
                    out.flush();
                    Thread.sleep(2000); // old pools close, the JVM settles
                }
                if (!warmingUp.isEmpty()) {
                    out.printf(
                            "warm-up, rounds 1-%d: p99 %s ms, max %s ms%n",
                            warmup, ms(Percentiles.percentile(warmingUp, 99)), ms(Percentiles.max(warmingUp)));
                }
                out.printf(
                        "measured, rounds %d-%d: %d switches, from the write's start p50 %s ms, p99 %s ms, max %s ms%s%n",
                        warmup + 1,
                        total,
                        measured.size(),
                        ms(Percentiles.percentile(measured, 50)),
                        ms(Percentiles.percentile(measured, 99)),
                        ms(Percentiles.max(measured)),
                        measuredProbes.isEmpty()
                                ? ""
                                : "; probes' first connection p50 " + ms(Percentiles.percentile(measuredProbes, 50))
                                        + " ms, max " + ms(Percentiles.max(measuredProbes)) + " ms");
                out.printf(
                        "every round: %d of %d switches missed the %d s deadline; probes that got the wrong node or"
                                + " none: %d; load average %s%n",
                        missed,
                        (long) total * clients,
                        ROUND_TIMEOUT.toSeconds(),
                        fleet.wrongNode(),
                        LoadAverage.read());
                return missed == 0 && fleet.wrongNode() == 0 ? 0 : 1;
            } finally {
                closing = true;
                out.flush();
                BatonMain.silenceLogs(); // ZooKeeper servers and 1,000 sessions going away log at ERROR
                if (bare) {
                    bareFleet.close();
                }
                fleet.close();
            }
        }
    }

    private static PrimaryRecord record(SandboxNode node, long epoch) {
        return new PrimaryRecord(CLUSTER, node.id(), "127.0.0.1", node.port(), "postgresql", epoch, Instant.now());
    }

    private static String ms(long micros) {
        return micros == Percentiles.MISSED ? "missed" : String.format("%.1f", micros / 1000.0);
    }

    /** CPU time this process used so far (every thread: clients, ZooKeeper servers, GC), or 0 if unknown. */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : 0;
    }

    /**
     * Time the JIT compilers spent so far, summed over their threads (0 if unknown): compilation during a round takes
     * CPU from the clients, which a warm-up round is for.
     */
    private static long jitMillis() {
        var jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /** CPU this process used over {@code window}, in percent of one core. */
    private static double idleCpuPercent(Duration window) throws InterruptedException {
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)) {
            return Double.NaN;
        }
        long cpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        Thread.sleep(window.toMillis());
        return 100.0 * (os.getProcessCpuTime() - cpu) / (System.nanoTime() - start);
    }

    /**
     * The baseline: per client a plain ZooKeeper handle that does the least a client of the primary record must do
     * (a persistent recursive watch on the epochs node; on a creation, parse the record out of the new node's name)
     * and records when it saw each epoch in the same arrays as the data sources.
     */
    private final class BareClients {
        private final Clients times;
        private final String zookeeper;
        private final List<org.apache.zookeeper.ZooKeeper> handles = new ArrayList<>();

        BareClients(Clients times, String zookeeper) {
            this.times = times;
            this.zookeeper = zookeeper + "/" + RegistryPaths.DEFAULT_NAMESPACE;
        }

        void start() throws Exception {
            for (int i = 0; i < clients; i++) {
                int client = i;
                java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(1);
                org.apache.zookeeper.ZooKeeper zk = new org.apache.zookeeper.ZooKeeper(zookeeper, 10_000, e -> {
                    if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                        connected.countDown();
                    }
                });
                handles.add(zk);
                if (!connected.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("client " + client + " did not connect to ZooKeeper");
                }
                zk.addWatch(
                        RegistryPaths.epochs(CLUSTER),
                        e -> {
                            if (e.getType() == org.apache.zookeeper.Watcher.Event.EventType.NodeCreated) {
                                String name = e.getPath().substring(e.getPath().lastIndexOf('/') + 1);
                                times.saw(client, EpochNode.parse(name).epoch());
                            }
                        },
                        org.apache.zookeeper.AddWatchMode.PERSISTENT_RECURSIVE);
                byte[] first = zk.getData(RegistryPaths.primary(CLUSTER), false, null);
                times.saw(client, RegistryJson.read(first, PrimaryRecord.class).epoch());
            }
        }

        void close() throws InterruptedException {
            for (org.apache.zookeeper.ZooKeeper zk : handles) {
                zk.close(100);
            }
        }
    }

    /** The data sources, when each saw which epoch, and the probes' borrows. */
    private final class Clients implements AutoCloseable {
        private final LocalCluster cluster;
        private final String zookeeper;
        private final List<FailoverDataSource> sources = new ArrayList<>();
        /** epoch -> client -> System.nanoTime() when its listener saw that epoch (0: not yet). */
        private final AtomicLongArray[] seen;
        /** epoch -> probe -> System.nanoTime() when its first borrow after the change returned the new node. */
        private final AtomicLongArray[] probed;

        private final AtomicInteger wrongNode = new AtomicInteger();
        private final ExecutorService probeThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fanout-probe");
            t.setDaemon(true);
            return t;
        });
        private volatile long expectedEpoch;
        private volatile int expectedPort;
        private final List<Future<?>> probeRuns = new ArrayList<>();

        Clients(LocalCluster cluster, String zookeeper, int epochs) {
            this.cluster = cluster;
            this.zookeeper = zookeeper;
            this.seen = new AtomicLongArray[epochs + 1];
            this.probed = new AtomicLongArray[epochs + 1];
            for (int e = 0; e <= epochs; e++) {
                seen[e] = new AtomicLongArray(clients);
                probed[e] = new AtomicLongArray(probes);
            }
        }

        /** Builds the data sources on a few threads: each starts its own Curator client and session. */
        void start() throws Exception {
            ExecutorService builders = Executors.newFixedThreadPool(4);
            try {
                List<Future<FailoverDataSource>> built = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    int client = i;
                    built.add(builders.submit(() -> open(client)));
                }
                for (Future<FailoverDataSource> f : built) {
                    sources.add(f.get());
                }
            } finally {
                builders.shutdown();
            }
        }

        private FailoverDataSource open(int client) {
            FailoverDataSource ds = FailoverDataSource.builder()
                    .zookeeper(zookeeper)
                    .cluster(CLUSTER)
                    .user(cluster.user())
                    .password(cluster.password())
                    .database(cluster.database())
                    .hikari(c -> {
                        c.setMinimumIdle(0);
                        c.setMaximumPoolSize(1);
                    })
                    .lease(lease)
                    .build();
            ds.addPrimaryChangeListener(r -> {
                long now = System.nanoTime();
                // the probe is submitted before the change is recorded: once every client has recorded it, the
                // round collects the probes, and must find all of them
                if (client < probes && r.epoch() == expectedEpoch) {
                    synchronized (probeRuns) {
                        probeRuns.add(probeThreads.submit(() -> probe(ds, client, r.epoch())));
                    }
                }
                if (r.epoch() < seen.length) {
                    seen[(int) r.epoch()].compareAndSet(client, 0, now);
                }
            });
            // the first record may have arrived before the listener was added
            if (ds.newestEpochSeen() >= 1) {
                seen[1].compareAndSet(client, 0, System.nanoTime());
            }
            return ds;
        }

        /** The first borrow after the change: must be the new primary. */
        private void probe(FailoverDataSource ds, int client, long epoch) {
            try (Connection c = ds.getConnection();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                long now = System.nanoTime();
                if (rs.getInt(1) != expectedPort) {
                    wrongNode.incrementAndGet();
                }
                probed[(int) epoch].set(client, now);
            } catch (Exception e) {
                if (!closing) {
                    wrongNode.incrementAndGet();
                    out.println("probe client " + client + " failed to borrow after epoch " + epoch + ": " + e);
                }
            }
        }

        /** A bare client saw {@code epoch}. */
        void saw(int client, long epoch) {
            if (epoch < seen.length) {
                seen[(int) epoch].compareAndSet(client, 0, System.nanoTime());
            }
        }

        void expect(long epoch, int port) {
            expectedPort = port;
            expectedEpoch = epoch;
        }

        /**
         * Waits until every client's listener saw {@code epoch}. Not {@code newestEpochSeen()}: a data source sets
         * that before it calls its listeners, and a client preempted in between would be counted as missed.
         */
        void awaitEpoch(long epoch, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            AtomicLongArray at = seen[(int) epoch];
            while (System.nanoTime() < deadline) {
                boolean all = true;
                for (int i = 0; i < at.length() && all; i++) {
                    all = at.get(i) != 0;
                }
                if (all) {
                    return;
                }
                Thread.sleep(20);
            }
        }

        /** Per client, microseconds from {@code published} to its switch to {@code epoch}, or MISSED. */
        List<Long> switchMicros(long epoch, long published) {
            return micros(seen[(int) epoch], published);
        }

        List<Long> probeMicros(long epoch, long published, Duration timeout) throws Exception {
            List<Future<?>> runs;
            synchronized (probeRuns) {
                runs = List.copyOf(probeRuns);
                probeRuns.clear();
            }
            for (Future<?> f : runs) {
                f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            return probes == 0 ? List.of() : micros(probed[(int) epoch], published);
        }

        private List<Long> micros(AtomicLongArray at, long published) {
            List<Long> result = new ArrayList<>(at.length());
            for (int i = 0; i < at.length(); i++) {
                long t = at.get(i);
                result.add(t == 0 ? Percentiles.MISSED : Math.max(0, (t - published) / 1000));
            }
            return result;
        }

        int wrongNode() {
            return wrongNode.get();
        }

        /** Closes the data sources on a few threads (each closes its pool and ZooKeeper session). */
        @Override
        public void close() throws InterruptedException {
            probeThreads.shutdownNow();
            ExecutorService closers = Executors.newFixedThreadPool(8);
            sources.forEach(ds -> closers.execute(ds::close));
            closers.shutdown();
            closers.awaitTermination(2, TimeUnit.MINUTES);
        }
    }
}
