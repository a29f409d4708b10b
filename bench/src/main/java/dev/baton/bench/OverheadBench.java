package dev.baton.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.baton.jdbc.FailoverDataSource;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import javax.sql.DataSource;

/**
 * The wrapper's cost on the hot path, measured so that a shared, drifting machine cannot hide a 1 % difference: one
 * thread runs point queries (by primary key, on a 10,000-row table) through plain HikariCP and through
 * {@code FailoverDataSource} to the same PostgreSQL primary, in <em>paired blocks</em> of {@value #BLOCK_OPS}
 * operations: HikariCP then Baton or Baton then HikariCP (random order), back to back. Each pair gives one ratio
 * (Baton's throughput over HikariCP's in the same few milliseconds), so drift cancels within the pair; the median
 * of thousands of ratios comes with a distribution-free 95 % confidence interval. The caller thread's CPU time per
 * operation is measured per block too: a point query mostly waits for the server, so the wrapper's cost is CPU.
 *
 * <p>This JVM runs on core 0 and the database on core 1 ({@link dev.baton.sandbox.CorePinning}).
 *
 * <p>Two cases: {@code borrow} (getConnection, prepareStatement, setInt, executeQuery, next, getString, close all)
 * and {@code held} (the same on a connection kept for the whole run). Both pools: maximumPoolSize 4, HikariCP's
 * other defaults; Baton's data source watches ZooKeeper with the lease on, as applications run it.
 */
final class OverheadBench {
    static final int BLOCK_OPS = 100;
    private static final String QUERY = "SELECT v FROM kv WHERE id = ?";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.ThreadMXBean ALLOCATION =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private OverheadBench() {}

    /**
     * {@code runs} runs of {@code seconds} per case, after a warm-up of the same length. {@code nullTest}: both sides
     * are plain HikariCP pools, which shows the method's own bias (it should give 1).
     */
    static int run(PrintWriter out, int runs, int seconds, boolean nullTest) throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare("postgresql", step -> {})) {
            s.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            var primary = s.node(s.dataSource().currentPrimary().orElseThrow().nodeId());
            try (Connection c = s.dataSource().getConnection();
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL)");
                st.execute("INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 10000) AS g");
            }
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(primary.jdbcUrl());
            config.setUsername(s.cluster().user());
            config.setPassword(s.cluster().password());
            config.setMaximumPoolSize(4);
            String placement = dev.baton.sandbox.CorePinning.pin(s.cluster().nodes());
            try (HikariDataSource plain = new HikariDataSource(config);
                    FailoverDataSource baton = FailoverDataSource.builder()
                            .zookeeper(s.zooKeeperConnect())
                            .namespace("baton")
                            .cluster(FailoverScenario.CLUSTER)
                            .user(s.cluster().user())
                            .password(s.cluster().password())
                            .database(s.cluster().database())
                            .hikari(c -> c.setMaximumPoolSize(config.getMaximumPoolSize()))
                            .build()) {
                out.printf(
                        "wrapper overhead: paired blocks of %d point SELECTs, HikariCP and %s back to back in random"
                                + " order, one thread; %d run(s) of %d s per case after a %d s warm-up; %s; load average"
                                + " %s%n",
                        BLOCK_OPS,
                        nullTest ? "another HikariCP pool (null test: Baton's column is HikariCP)" : "Baton",
                        runs,
                        seconds,
                        seconds,
                        placement,
                        LoadAverage.read());
                out.printf(
                        "%-7s %4s %7s %12s %12s %10s %10s %10s %9s %9s %26s%n",
                        "case",
                        "run",
                        "pairs",
                        "Hikari µs/op",
                        "Baton µs/op",
                        "ratio",
                        "Hikari cpu",
                        "Baton cpu",
                        "Hikari B",
                        "Baton B",
                        "median pair [95 % CI]");
                HikariDataSource second = nullTest ? new HikariDataSource(config) : null;
                DataSource other = nullTest ? second : baton;
                for (boolean held : new boolean[] {false, true}) {
                    String name = held ? "held" : "borrow";
                    measure(plain, other, held, seconds); // warm-up: JIT, pools, caches
                    Pairs all = new Pairs();
                    for (int r = 1; r <= runs; r++) {
                        Pairs run = measure(plain, other, held, seconds);
                        all.add(run);
                        out.println(run.line(name, String.valueOf(r)));
                        out.flush();
                    }
                    out.println(all.line(name, "all"));
                    out.flush();
                }
                out.println("ratio: Baton's throughput over HikariCP's (time of all HikariCP blocks over time of all"
                        + " Baton blocks); cpu: the calling thread's CPU µs per operation (driver and wrapper); B:"
                        + " bytes the calling thread allocated per operation; median pair: the median of the per-pair"
                        + " ratios with its distribution-free 95 % interval");
                out.printf("load average after: %s%n", LoadAverage.read());
                if (second != null) {
                    second.close();
                }
            }
        }
        return 0;
    }

    /** Pairs of blocks for {@code seconds}. */
    private static Pairs measure(DataSource plain, DataSource baton, boolean held, int seconds) throws SQLException {
        SplittableRandom random = new SplittableRandom(seconds * 31L + (held ? 1 : 0));
        Pairs pairs = new Pairs();
        try (Side a = new Side(plain, held);
                Side b = new Side(baton, held)) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                Block x;
                Block y;
                if (random.nextBoolean()) {
                    x = a.block(random);
                    y = b.block(random);
                } else {
                    y = b.block(random);
                    x = a.block(random);
                }
                pairs.add(x, y);
            }
        }
        return pairs;
    }

    /** Wall and CPU nanoseconds and allocated bytes of one block. */
    private record Block(long wall, long cpu, long bytes) {}

    /** One data source, with its kept connection in the held case. */
    private static final class Side implements AutoCloseable {
        private final DataSource ds;
        private final Connection kept;

        Side(DataSource ds, boolean held) throws SQLException {
            this.ds = ds;
            this.kept = held ? ds.getConnection() : null;
        }

        Block block(SplittableRandom random) throws SQLException {
            long thread = Thread.currentThread().getId();
            long bytes = ALLOCATION.getThreadAllocatedBytes(thread);
            long cpu = THREADS.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            for (int i = 0; i < BLOCK_OPS; i++) {
                int id = random.nextInt(1, 10_001);
                if (kept == null) {
                    try (Connection c = ds.getConnection()) {
                        select(c, id);
                    }
                } else {
                    select(kept, id);
                }
            }
            long wall = System.nanoTime() - start;
            return new Block(
                    wall, THREADS.getCurrentThreadCpuTime() - cpu, ALLOCATION.getThreadAllocatedBytes(thread) - bytes);
        }

        private static void select(Connection c, int id) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(QUERY)) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null) {
                        throw new IllegalStateException("row " + id + " missing");
                    }
                }
            }
        }

        @Override
        public void close() throws SQLException {
            if (kept != null) {
                kept.close();
            }
        }
    }

    /** Paired blocks: HikariCP's ({@code a}) and Baton's ({@code b}). */
    private static final class Pairs {
        private final List<Double> ratios = new ArrayList<>();
        private long wallA;
        private long wallB;
        private long cpuA;
        private long cpuB;
        private long bytesA;
        private long bytesB;

        void add(Block a, Block b) {
            ratios.add((double) a.wall() / b.wall());
            wallA += a.wall();
            wallB += b.wall();
            cpuA += a.cpu();
            cpuB += b.cpu();
            bytesA += a.bytes();
            bytesB += b.bytes();
        }

        void add(Pairs other) {
            ratios.addAll(other.ratios);
            wallA += other.wallA;
            wallB += other.wallB;
            cpuA += other.cpuA;
            cpuB += other.cpuB;
            bytesA += other.bytesA;
            bytesB += other.bytesB;
        }

        String line(String name, String run) {
            long ops = (long) ratios.size() * BLOCK_OPS;
            List<Double> sorted = new ArrayList<>(ratios);
            Collections.sort(sorted);
            int n = sorted.size();
            // ranks of the distribution-free 95 % interval of the median (normal approximation of the binomial)
            int half = (int) Math.ceil(0.98 * Math.sqrt(n));
            double median = n == 0 ? Double.NaN : sorted.get(n / 2);
            double low = n == 0 ? Double.NaN : sorted.get(Math.max(0, n / 2 - half));
            double high = n == 0 ? Double.NaN : sorted.get(Math.min(n - 1, n / 2 + half));
            return String.format(
                    "%-7s %4s %7d %12.2f %12.2f %10.4f %10.2f %10.2f %9d %9d %26s",
                    name,
                    run,
                    n,
                    wallA / 1000.0 / ops,
                    wallB / 1000.0 / ops,
                    (double) wallA / wallB,
                    cpuA / 1000.0 / ops,
                    cpuB / 1000.0 / ops,
                    bytesA / ops,
                    bytesB / ops,
                    String.format("%.4f [%.4f, %.4f]", median, low, high));
        }
    }
}
