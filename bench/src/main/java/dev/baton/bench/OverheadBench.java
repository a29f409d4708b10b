package dev.baton.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The wrapper's cost on the hot path: read-only point queries (borrow, one indexed SELECT, return) through plain
 * HikariCP and through {@code FailoverDataSource} to the same primary, same pool size, alternating rounds so that
 * drift of the machine hits both alike.
 */
final class OverheadBench {
    private OverheadBench() {}

    static int run(PrintWriter out, int rounds, int seconds, int threads) throws Exception {
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
            config.setMaximumPoolSize(10);
            try (HikariDataSource plain = new HikariDataSource(config)) {
                out.printf(
                        "wrapper overhead: %d rounds x %d s per side, %d threads, point SELECT by primary key%n",
                        rounds, seconds, threads);
                out.printf("%6s %16s %16s %8s%n", "round", "HikariCP ops/s", "Baton ops/s", "ratio");
                measure(plain, threads, 2);
                measure(s.dataSource(), threads, 2);
                List<Double> ratios = new ArrayList<>();
                long plainTotal = 0;
                long batonTotal = 0;
                for (int r = 1; r <= rounds; r++) {
                    long a = measure(plain, threads, seconds);
                    long b = measure(s.dataSource(), threads, seconds);
                    plainTotal += a;
                    batonTotal += b;
                    ratios.add((double) b / a);
                    out.printf("%6d %16d %16d %8.3f%n", r, a, b, (double) b / a);
                    out.flush();
                }
                out.printf(
                        "Baton / HikariCP throughput over all rounds: %.3f (%.1f %% %s)%n",
                        (double) batonTotal / plainTotal,
                        Math.abs(100.0 * (batonTotal - plainTotal) / plainTotal),
                        batonTotal < plainTotal ? "slower" : "faster");
            }
        }
        return 0;
    }

    /** Operations per second of {@code threads} threads for {@code seconds}. */
    private static long measure(DataSource ds, int threads, int seconds) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ops = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                while (running.get()) {
                    try (Connection c = ds.getConnection();
                            PreparedStatement ps = c.prepareStatement("SELECT v FROM kv WHERE id = ?")) {
                        ps.setInt(1, ThreadLocalRandom.current().nextInt(1, 10001));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        ops.incrementAndGet();
                    } catch (Exception e) {
                        throw new IllegalStateException("point query failed", e);
                    }
                }
            });
            w.start();
            workers.add(w);
        }
        Thread.sleep(seconds * 1000L);
        running.set(false);
        for (Thread w : workers) {
            w.join();
        }
        return ops.get() / seconds;
    }
}
