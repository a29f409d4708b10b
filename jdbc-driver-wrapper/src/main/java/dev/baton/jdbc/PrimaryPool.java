package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.pool.HikariPool;
import dev.baton.registry.PrimaryRecord;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLInvalidAuthorizationSpecException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The HikariCP pool of one primary in one epoch. When a newer epoch is published the pool is retired: logical
 * connections move off it at their next statement (or lose their open transaction), and the pool is closed (idle
 * connections closed, borrowed ones aborted).
 *
 * <p>The HikariCP pool itself is started by {@link #start()} (the data source calls it off the notification path when
 * the pool should keep idle connections) or by the first borrow, whichever comes first: switching a data source to a
 * new primary is then a matter of microseconds, and a data source that borrows nothing in an epoch starts no pool.
 * The settings are validated, and the driver for the URL looked up, when this object is created.
 */
final class PrimaryPool {
    private final PrimaryRecord record;
    /** Flavors whose driver {@link DriverManager} was found to accept: looked up once per JVM. */
    private static final java.util.Set<DriverFlavor> DRIVER_FOUND = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final DriverFlavor flavor;
    private final HikariConfig config;
    /** Null until started; guarded by {@code this} for the start and the close. */
    private volatile HikariDataSource pool;

    private boolean closed;
    /** How long one borrow attempt waits before it looks for a newer primary. */
    static final long BORROW_SLICE_MS = 50;

    /** HikariCP's shortest configurable connectionTimeout, used only where the pool is not started yet. */
    private static final long HIKARI_MIN_TIMEOUT_MS = 250;

    private static final long DIAGNOSE_TIMEOUT_MS = 2000;

    private final long borrowTimeoutNanos;
    private volatile PrimaryRecord successor;
    private volatile int fenceGeneration;

    /**
     * The configured {@code connectionTimeout} becomes the whole time a borrow may take; HikariCP itself is given
     * short slices ({@link #borrow()}), and {@link FailoverDataSource#getConnection()} borrows again slice after slice.
     */
    PrimaryPool(PrimaryRecord record, DriverFlavor flavor, HikariConfig config) {
        this.record = record;
        this.flavor = flavor;
        this.borrowTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(config.getConnectionTimeout());
        config.setConnectionTimeout(Math.min(HIKARI_MIN_TIMEOUT_MS, config.getConnectionTimeout()));
        config.validate(); // what HikariDataSource would refuse, refused now
        if (config.getDriverClassName() == null && config.getDataSource() == null && !DRIVER_FOUND.contains(flavor)) {
            try {
                DriverManager.getDriver(config.getJdbcUrl());
            } catch (SQLException e) {
                throw new IllegalStateException(
                        "no JDBC driver accepts " + config.getJdbcUrl() + ": " + e.getMessage());
            }
            DRIVER_FOUND.add(flavor);
        }
        this.config = config;
    }

    /** True when the pool should open connections before anyone borrows (HikariCP's {@code minimumIdle}). */
    boolean keepsIdleConnections() {
        return config.getMinimumIdle() > 0;
    }

    /**
     * Closes this pool now if it never started (nothing to close but the flag) and returns true; false when it
     * started, and closing it means closing connections (see {@link #close()}).
     */
    synchronized boolean closeIfNeverStarted() {
        if (pool == null) {
            closed = true;
            return true;
        }
        return false;
    }

    /** Starts the HikariCP pool unless it runs or this pool was closed. */
    void start() {
        started();
    }

    /** The running HikariCP pool, started now if need be; null once closed. */
    private HikariDataSource started() {
        HikariDataSource p = pool;
        if (p != null) {
            return p;
        }
        synchronized (this) {
            if (pool == null && !closed) {
                pool = new HikariDataSource(config);
            }
            return pool;
        }
    }

    long borrowTimeoutNanos() {
        return borrowTimeoutNanos;
    }

    /** The error for a borrow that gave up, naming the node and the whole time waited. */
    SQLException borrowFailed(SQLException last, long waitedMs) {
        if (!(last instanceof SQLTransientConnectionException)) {
            return last;
        }
        SQLException why = last.getCause() instanceof SQLException cause ? cause : diagnose();
        return FailoverSqlStates.noPrimary(
                "no connection to " + describe(record) + " of cluster '" + record.cluster() + "' within " + waitedMs
                        + " ms: " + last.getMessage()
                        + (why == null
                                ? ""
                                : "; the driver says (SQLState " + why.getSQLState() + "): "
                                        + masked(why.getMessage())),
                why != null ? why : last);
    }

    /**
     * The driver's failure behind a borrow that timed out, when it is a refusal that waiting will not fix
     * ({@link DriverFlavor#isRefusal}); null otherwise. HikariCP's timeout carries the pool's last failed
     * connection attempt as its cause; a pool that failed once and then connected has cleared it.
     */
    SQLException refusal(SQLException borrowError) {
        if (!(borrowError instanceof SQLTransientConnectionException)) {
            return null;
        }
        for (Throwable t = borrowError.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException driverFailure) {
                return flavor.isRefusal(driverFailure) ? driverFailure : null;
            }
        }
        return null;
    }

    /**
     * The error for a borrow the driver refused: the driver's SQLState and vendor code, and its exception as the
     * cause. The message does not repeat the driver's, which may quote a setting's value; class 28 becomes
     * {@link SQLInvalidAuthorizationSpecException}.
     */
    SQLException refused(SQLException driverFailure, long waitedMs) {
        String state = driverFailure.getSQLState();
        int code = driverFailure.getErrorCode();
        boolean credentials = state != null && state.startsWith("28");
        String message = "the driver refused to connect to " + describe(record) + " of cluster '" + record.cluster()
                + "' after " + waitedMs + " ms (SQLState " + state + (code == 0 ? "" : ", error " + code) + "): "
                + (credentials ? "the user or password was rejected" : "the database or a driver setting was refused")
                + "; not retried, the configuration must change. The cause is the driver's exception";
        return credentials
                ? new SQLInvalidAuthorizationSpecException(message, state, code, driverFailure)
                : new SQLNonTransientConnectionException(message, state, code, driverFailure);
    }

    /** {@code text} with the password and every driver property named like a password replaced by {@code ****}. */
    private String masked(String text) {
        if (text == null) {
            return "";
        }
        String result = text;
        List<String> secrets = new ArrayList<>();
        secrets.add(config.getPassword());
        config.getDataSourceProperties().forEach((k, v) -> {
            if (String.valueOf(k).toLowerCase(Locale.ROOT).contains("password")) {
                secrets.add(String.valueOf(v));
            }
        });
        for (String secret : secrets) {
            if (secret != null && !secret.isEmpty()) {
                result = result.replace(secret, "****");
            }
        }
        return result;
    }

    /**
     * HikariCP's short borrow slices can all end before its own connection attempt failed, and then carry no
     * cause; one direct attempt with the pool's settings tells the application why (a rejected password, a
     * refused connection). Returns null when that attempt succeeds.
     */
    private SQLException diagnose() {
        Properties props = new Properties();
        props.putAll(config.getDataSourceProperties());
        if (config.getUsername() != null) {
            props.setProperty("user", config.getUsername());
        }
        if (config.getPassword() != null) {
            props.setProperty("password", config.getPassword());
        }
        // Bounded: a blackholed node must not hold the application's thread for the OS connect timeout.
        java.util.concurrent.CompletableFuture<SQLException> attempt =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try (Connection ignored = DriverManager.getConnection(config.getJdbcUrl(), props)) {
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                });
        try {
            return attempt.get(DIAGNOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return new SQLException(
                    "no answer from " + describe(record) + " within " + DIAGNOSE_TIMEOUT_MS + " ms", "08001");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return null;
        }
    }

    PrimaryRecord record() {
        return record;
    }

    long epoch() {
        return record.epoch();
    }

    DriverFlavor flavor() {
        return flavor;
    }

    boolean isRetired() {
        return successor != null;
    }

    /**
     * Borrows, waiting at most {@link #BORROW_SLICE_MS} (HikariCP's own pool accepts a shorter wait than its
     * configurable minimum of 250 ms), so that a borrow stuck on a dead primary looks at the published primary again
     * soon after it changed.
     */
    Connection borrow() throws SQLException {
        HikariDataSource p = started();
        if (p == null) {
            throw new SQLException("the pool of " + describe(record) + " was closed", "08003");
        }
        if (p.getHikariPoolMXBean() instanceof HikariPool running) {
            return running.getConnection(BORROW_SLICE_MS);
        }
        return p.getConnection();
    }

    /** Marks the pool retired; borrowed connections fail from now on. Does not close it (see {@link #close()}). */
    void retire(PrimaryRecord newer) {
        successor = newer;
    }

    /** Closes the pool: idle connections are closed, borrowed ones aborted. May block for seconds. */
    void close() {
        HikariDataSource p;
        synchronized (this) {
            closed = true;
            p = pool;
        }
        if (p != null) {
            p.close();
        }
    }

    /** Closes the physical connection behind {@code pooled} and removes it from the pool. */
    void evict(Connection pooled) {
        HikariDataSource p = pool;
        if (p != null) {
            p.evictConnection(pooled);
        }
    }

    /**
     * Replaces the pool's connections (idle ones now, borrowed ones when they come back), so that no borrower gets one
     * of a session that ended; nothing to do before the pool started.
     */
    void softEvictConnections() {
        HikariDataSource p = pool;
        if (p != null) {
            p.getHikariPoolMXBean().softEvictConnections();
        }
    }

    /** The running pool's statistics and controls; null before it started (it holds no connection then). */
    HikariPoolMXBean poolBean() {
        HikariDataSource p = pool;
        return p == null ? null : p.getHikariPoolMXBean();
    }

    /** The newer record that retired this pool, or null. */
    PrimaryRecord successor() {
        return successor;
    }

    /** Changes when a switchover fenced this pool's node and rolled back: its sessions were ended. */
    int fenceGeneration() {
        return fenceGeneration;
    }

    void fenced() {
        fenceGeneration++;
    }

    static String describe(PrimaryRecord r) {
        return "node '" + r.nodeId() + "' at " + r.address() + " (epoch " + r.epoch() + ")";
    }

    @Override
    public String toString() {
        return "PrimaryPool[" + describe(record) + (isRetired() ? ", retired" : "") + "]";
    }
}
