package dev.baton.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * An application thread that writes one row per autocommit transaction through a DataSource at a steady rate,
 * and remembers every write: acknowledged (with the server port that committed it) or failed (with SQLState).
 */
public final class Writer implements AutoCloseable {
    /** One attempted write. {@code port} is the server that acknowledged it, or -1 when it failed. */
    public record Write(long id, long startNanos, long endNanos, int port, String sqlState, String error) {
        public boolean acknowledged() {
            return port > 0;
        }
    }

    private final DataSource dataSource;
    private final WorkloadSql sql;
    private final long intervalNanos;
    private final ConcurrentLinkedQueue<Write> log = new ConcurrentLinkedQueue<>();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    public Writer(DataSource dataSource, String dialect, int writesPerSecond) {
        this.dataSource = dataSource;
        this.sql = WorkloadSql.of(dialect);
        this.intervalNanos = 1_000_000_000L / writesPerSecond;
        this.thread = new Thread(this::loop, "baton-writer");
        this.thread.setDaemon(true);
    }

    /** Creates the table through the DataSource (on the primary) and starts writing. */
    public Writer start() throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement st = c.createStatement()) {
            st.execute(sql.createTable);
        }
        thread.start();
        return this;
    }

    private void loop() {
        long id = 0;
        long next = System.nanoTime();
        while (running) {
            id++;
            long start = System.nanoTime();
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(sql.insert)) {
                ps.setLong(1, id);
                int port;
                if (sql.insertReturnsPort()) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        port = rs.getInt(1);
                    }
                } else {
                    ps.executeUpdate();
                    try (Statement st = c.createStatement();
                            ResultSet rs = st.executeQuery("SELECT @@port")) {
                        rs.next();
                        port = rs.getInt(1);
                    }
                }
                log.add(new Write(id, start, System.nanoTime(), port, null, null));
                acknowledged.incrementAndGet();
            } catch (SQLException e) {
                log.add(new Write(id, start, System.nanoTime(), -1, e.getSQLState(), e.getMessage()));
                failed.incrementAndGet();
            }
            next += intervalNanos;
            long now = System.nanoTime();
            if (next > now) {
                LockSupport.parkNanos(next - now);
            } else {
                next = now; // behind schedule: do not burst to catch up
            }
        }
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

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
