package dev.baton.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Application threads that write one row per autocommit transaction at a steady rate, and remember every write:
 * acknowledged (with the server port that committed it) or failed (with SQLState). Each row carries an id unique
 * across every writer that shares an {@link AtomicLong} id sequence.
 *
 * <p>Two ways to hold connections, as applications do: {@link Mode#BORROW} takes a connection from the DataSource
 * for every write and gives it back ({@code FailoverDataSource}); {@link Mode#KEEP} keeps one connection across
 * writes and opens a new one only after a write failed (a {@code jdbc:baton:} URL through {@code DriverManager}).
 */
public final class Writer implements AutoCloseable {
    /** How a writer thread holds its connection. */
    public enum Mode {
        BORROW,
        KEEP
    }

    /** Where a {@link Mode#KEEP} writer gets a new connection. */
    @FunctionalInterface
    public interface Connector {
        Connection connect() throws SQLException;
    }

    /**
     * One attempted write. {@code port} is the server that acknowledged it, or -1 when it failed; {@code app} names
     * the writer.
     */
    public record Write(long id, long startNanos, long endNanos, int port, String sqlState, String error, String app) {
        public Write(long id, long startNanos, long endNanos, int port, String sqlState, String error) {
            this(id, startNanos, endNanos, port, sqlState, error, "app");
        }

        public boolean acknowledged() {
            return port > 0;
        }
    }

    private final String app;
    private final Mode mode;
    private final DataSource dataSource;
    private final Connector connector;
    private final WorkloadSql sql;
    private final long intervalNanos;
    private final AtomicLong ids;
    private final ConcurrentLinkedQueue<Write> log = new ConcurrentLinkedQueue<>();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    /** One thread borrowing a connection from {@code dataSource} per write. */
    public Writer(DataSource dataSource, String dialect, int writesPerSecond) {
        this("app", Mode.BORROW, dataSource, dataSource::getConnection, dialect, writesPerSecond, 1, new AtomicLong());
    }

    /**
     * {@code threads} threads named for {@code app}, each writing {@code writesPerSecond} rows a second; ids come
     * from {@code ids}, which writers of one scenario share. {@code dataSource} creates the table; {@code connector}
     * opens the connections of {@link Mode#KEEP} threads.
     */
    public Writer(
            String app,
            Mode mode,
            DataSource dataSource,
            Connector connector,
            String dialect,
            int writesPerSecond,
            int threads,
            AtomicLong ids) {
        if (writesPerSecond < 1 || threads < 1) {
            throw new IllegalArgumentException(
                    "writesPerSecond " + writesPerSecond + " and threads " + threads + " must be at least 1");
        }
        this.app = app;
        this.mode = mode;
        this.dataSource = dataSource;
        this.connector = connector;
        this.sql = WorkloadSql.of(dialect);
        this.intervalNanos = 1_000_000_000L / writesPerSecond;
        this.ids = ids;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::loop, "baton-writer-" + app + "-" + i);
            t.setDaemon(true);
            this.threads.add(t);
        }
    }

    /** Creates the table through the DataSource (on the primary) and starts writing. */
    public Writer start() throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement st = c.createStatement()) {
            st.execute(sql.createTable);
        }
        threads.forEach(Thread::start);
        return this;
    }

    private void loop() {
        long next = System.nanoTime();
        Connection kept = null;
        while (running) {
            long id = ids.incrementAndGet();
            long start = System.nanoTime();
            Connection c = null;
            try {
                c = mode == Mode.KEEP ? (kept != null ? kept : connector.connect()) : dataSource.getConnection();
                kept = mode == Mode.KEEP ? c : null;
                int port = insert(c, id);
                log.add(new Write(id, start, System.nanoTime(), port, null, null, app));
                acknowledged.incrementAndGet();
            } catch (SQLException e) {
                log.add(new Write(id, start, System.nanoTime(), -1, e.getSQLState(), e.getMessage(), app));
                failed.incrementAndGet();
                kept = null; // reconnect only after a failure, as applications that keep a connection do
                closeQuietly(c);
                c = null;
            } catch (RuntimeException e) { // a driver bug must not end the writer silently
                log.add(new Write(id, start, System.nanoTime(), -1, "runtime", e.toString(), app));
                failed.incrementAndGet();
                kept = null;
                closeQuietly(c);
                c = null;
            } finally {
                if (mode == Mode.BORROW) {
                    closeQuietly(c);
                }
            }
            next += intervalNanos;
            long now = System.nanoTime();
            if (next > now) {
                LockSupport.parkNanos(next - now);
            } else {
                next = now; // behind schedule: do not burst to catch up
            }
        }
        closeQuietly(kept);
    }

    /** Inserts row {@code id}; returns the port of the server that committed it. */
    private int insert(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql.insert)) {
            ps.setLong(1, id);
            if (sql.insertReturnsPort()) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
            ps.executeUpdate();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT @@port")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // the connection is broken anyway
        }
    }

    public String app() {
        return app;
    }

    public long acknowledgedCount() {
        return acknowledged.get();
    }

    public long failedCount() {
        return failed.get();
    }

    public List<Write> writes() {
        return List.copyOf(log);
    }

    /** The first acknowledged write that started after {@code nanos} on a server other than {@code oldPort}. */
    public Write firstAcknowledgedElsewhereAfter(long nanos, int oldPort) {
        for (Write w : log) {
            if (w.acknowledged() && w.port() != oldPort && w.endNanos() > nanos) {
                return w;
            }
        }
        return null;
    }

    /**
     * Stops writing; waits up to 10 s per thread for the write in flight (a thread stuck in a write to a hung
     * server is left behind as a daemon; its write is then missing from the log).
     */
    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
