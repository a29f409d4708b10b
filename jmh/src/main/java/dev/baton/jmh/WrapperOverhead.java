package dev.baton.jmh;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.baton.jdbc.FailoverDataSource;
import java.io.Closeable;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The wrapper's cost on a read-only point-query load: the same PostgreSQL primary through plain HikariCP
 * ({@code pool=hikari}) and through {@link FailoverDataSource} ({@code pool=baton}), same pool settings. The
 * primary, ZooKeeper and the primary record are set up once by {@link WrapperJmh}, which passes them to every fork
 * as system properties ({@link Target}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class WrapperOverhead {
    static final String POINT_SELECT = "SELECT v FROM kv WHERE id = ?";
    static final int ROWS = 10_000;
    static final int POOL_SIZE = 4;

    @Param({"hikari", "baton"})
    public String pool;

    DataSource dataSource;
    private Closeable closer;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        Target target = Target.fromSystemProperties();
        switch (pool) {
            case "hikari" -> {
                HikariDataSource hikari = hikari(target);
                dataSource = hikari;
                closer = hikari;
            }
            case "baton" -> {
                FailoverDataSource baton = baton(target);
                dataSource = baton;
                closer = baton;
            }
            default -> throw new IllegalArgumentException("pool: '" + pool + "' is neither hikari nor baton");
        }
        check(dataSource);
    }

    static HikariDataSource hikari(Target target) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(target.jdbcUrl());
        config.setUsername(target.user());
        config.setPassword(target.password());
        config.setMaximumPoolSize(POOL_SIZE);
        return new HikariDataSource(config);
    }

    static FailoverDataSource baton(Target target) {
        return FailoverDataSource.builder()
                .zookeeper(target.zookeeper())
                .cluster(target.cluster())
                .user(target.user())
                .password(target.password())
                .database(target.database())
                .hikari(c -> c.setMaximumPoolSize(POOL_SIZE))
                .build();
    }

    /** One point select, which must find its row. */
    static void check(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(POINT_SELECT)) {
            if (select(ps) == null) {
                throw new IllegalStateException("table kv is empty: WrapperJmh fills it before the forks start");
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        closer.close();
    }

    /** One connection per benchmark thread, borrowed for the whole trial: an application that keeps its connection. */
    @State(Scope.Thread)
    public static class Held {
        Connection connection;

        @Setup(Level.Trial)
        public void borrow(WrapperOverhead benchmark) throws SQLException {
            connection = benchmark.dataSource.getConnection();
        }

        @TearDown(Level.Trial)
        public void giveBack() throws SQLException {
            connection.close();
        }
    }

    /** Borrow, prepare, one indexed SELECT, close: an application that borrows per operation. */
    @Benchmark
    public String borrowSelectClose() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(POINT_SELECT)) {
            return select(ps);
        }
    }

    /** Prepare and one indexed SELECT on a connection the thread keeps. */
    @Benchmark
    public String heldSelect(Held held) throws SQLException {
        try (PreparedStatement ps = held.connection.prepareStatement(POINT_SELECT)) {
            return select(ps);
        }
    }

    static String select(PreparedStatement ps) throws SQLException {
        ps.setInt(1, ThreadLocalRandom.current().nextInt(1, ROWS + 1));
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
