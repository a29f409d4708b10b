package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link DataSource} that always hands out connections to the primary Baton published in ZooKeeper.
 *
 * <p>It watches {@code /<namespace>/clusters/<cluster>/primary} and keeps one HikariCP pool for the current
 * primary. When a record with a higher epoch arrives, new borrows go to the new primary at once, the old pool
 * is closed, and connections still borrowed from it move to the new primary at their next statement between
 * transactions ({@link FailoverConnection}). A record whose epoch is not higher than the newest seen is ignored.
 * While ZooKeeper is unreachable the last known primary keeps serving for {@code leaseTimeout}, then connections are
 * refused and aborted until ZooKeeper answers ({@link Builder#lease(boolean)}). While the hold node of a planned
 * switchover exists, {@link #getConnection()} and a kept connection's next transaction wait (up to
 * {@code holdTimeout}) for it to go away or for the new primary, instead of failing.
 *
 * <p>Build with {@link #builder()}; {@link Builder#build()} returns a started data source. Pools are created
 * with {@code initializationFailTimeout = -1}: a pool never fails at creation, a borrow fails after HikariCP's
 * {@code connectionTimeout} if its node is down. A borrow the driver refuses (a wrong password or user, a database
 * that does not exist, a driver property it does not accept: see {@link DriverFlavor#isRefusal}) fails at once with
 * the driver's SQLState and vendor code, the driver's exception as its cause.
 */
public final class FailoverDataSource implements DataSource, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverDataSource.class);
    /** Hold epoch when the hold node appeared before any primary record: bound to the first record seen. */
    private static final long HOLD_UNBOUND = Long.MAX_VALUE;

    private static final long NO_HOLD = -1;

    /** How long a write refused by a fenced node waits for the switchover (hold) or failover (new epoch) to show. */
    private static final long FENCE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final long LEASE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final FailoverConfig config;
    private final WrapperMetrics metrics;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final List<Consumer<PrimaryRecord>> listeners = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Closings of retired pools still running on the shared workers; {@link #close()} waits for them. */
    private final java.util.Set<CompletableFuture<Void>> retiring = ConcurrentHashMap.newKeySet();

    private volatile PrimaryPool current;
    /** Why no pool could be created for the first primary (no driver for its URL, a setting HikariCP refuses). */
    private volatile RuntimeException noPool;

    private volatile long newestEpoch;
    private final AtomicLong ignoredRecords = new AtomicLong();
    /** Epoch the hold applies to: borrows wait while the hold node exists and the current epoch is not newer. */
    private volatile long holdEpoch = NO_HOLD;
    /**
     * The hold in force is of kind unconfirmed-primary: its primary was never proven gone, so borrows never go back to
     * it when {@code holdTimeout} runs out; they fail with {@link FailoverSqlStates#NO_PRIMARY} instead.
     */
    private volatile boolean holdUnconfirmed;

    private final java.util.Set<FailoverConnection> lentConnections =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    private volatile boolean handedOut;
    private volatile PrimaryWatch watch;
    /** Set for a read-only data source ({@link Builder#readOnly}): lends from replicas first. */
    private volatile ReplicaRouter router;

    private volatile PrintWriter logWriter;
    private volatile int loginTimeoutSeconds;

    private FailoverDataSource(FailoverConfig config, WrapperMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    public static Builder builder() {
        return new Builder();
    }

    void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("cannot start a FailoverDataSource twice");
        }
        try {
            watch = new PrimaryWatch(config, new PrimaryWatch.Events() {
                @Override
                public void primary(PrimaryRecord record) {
                    accept(record);
                }

                @Override
                public void hold(boolean present, HoldRecord hold) {
                    onHold(present, hold);
                }

                @Override
                public void unconfirmedPrimary(HoldRecord hold) {
                    onUnconfirmedPrimary(hold);
                }

                @Override
                public void lease(boolean valid) {
                    onLease(valid);
                }
            });
            if (config.readRouting() != null) {
                router = new ReplicaRouter(
                        config, watch.client(), this::replicaPool, this::currentPrimary, java.time.Clock.systemUTC());
            }
        } catch (RuntimeException e) {
            close(); // a pool may already have been created for a record that arrived during the start
            throw e;
        }
    }

    @Override
    public void close() {
        State was = state.getAndSet(State.CLOSED);
        if (was == State.CLOSED) {
            return;
        }
        if (router != null) {
            router.close();
        }
        if (watch != null) {
            watch.close();
        }
        PrimaryPool pool;
        lock.lock();
        try {
            pool = current;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (pool != null) {
            pool.close();
        }
        try {
            CompletableFuture.allOf(retiring.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn("cluster {}: old pools still closing after 15 s", config.cluster());
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("cluster {}: closing an old pool failed", config.cluster(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
    }

    // ---------------------------------------------------------------- primary records and holds (ZooKeeper threads)

    private void accept(PrimaryRecord record) {
        PrimaryPool old;
        PrimaryPool fresh;
        lock.lock();
        try {
            if (state.get() != State.STARTED) {
                return;
            }
            old = current;
            if (old != null && record.epoch() <= old.epoch()) {
                if (!record.nodeId().equals(old.record().nodeId())
                        || !record.address().equals(old.record().address())) {
                    ignoredRecords.incrementAndGet();
                    LOG.warn(
                            "cluster {}: ignoring {}: not newer than {}",
                            config.cluster(),
                            PrimaryPool.describe(record),
                            PrimaryPool.describe(old.record()));
                }
                return;
            }
            try {
                DriverFlavor flavor = DriverFlavor.forDialect(record.dialect());
                fresh = new PrimaryPool(record, flavor, hikariConfig(record, flavor));
            } catch (RuntimeException e) {
                // fail closed: the old primary is superseded even if we cannot reach the new one
                newestEpoch = record.epoch();
                if (old != null) {
                    old.retire(record);
                } else {
                    noPool = e;
                    changed.signalAll();
                }
                LOG.error(
                        "cluster {}: cannot create a pool for {}; connections to the older primary fail from now on",
                        config.cluster(),
                        PrimaryPool.describe(record),
                        e);
                return;
            }
            current = fresh;
            noPool = null;
            newestEpoch = record.epoch();
            if (holdEpoch == HOLD_UNBOUND) {
                holdEpoch = record.epoch();
            }
            if (old != null) {
                old.retire(record);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        metrics.primaryAccepted(record.epoch(), old != null);
        if (old == null) {
            LOG.info("cluster {}: primary is {}", config.cluster(), PrimaryPool.describe(record));
        } else {
            LOG.info(
                    "cluster {}: primary moved from {} to {}; closing the old pool",
                    config.cluster(),
                    PrimaryPool.describe(old.record()),
                    PrimaryPool.describe(record));
            if (!old.closeIfNeverStarted()) {
                CompletableFuture<Void> closing =
                        CompletableFuture.runAsync(() -> closeQuietly(old), SharedThreads.WORKERS);
                retiring.add(closing);
                closing.whenComplete((ignored, e) -> retiring.remove(closing));
            }
        }
        for (Consumer<PrimaryRecord> listener : listeners) {
            try {
                listener.accept(record);
            } catch (RuntimeException e) {
                LOG.warn("cluster {}: primary change listener failed", config.cluster(), e);
            }
        }
        if (fresh.keepsIdleConnections()) {
            // open the idle connections now, after the switch: a borrow meanwhile starts the pool itself
            SharedThreads.WORKERS.execute(fresh::start);
        }
    }

    private void onHold(boolean present, HoldRecord hold) {
        lock.lock();
        try {
            PrimaryPool pool = current;
            long previous = holdEpoch;
            boolean wasUnconfirmed = holdUnconfirmed;
            if (!present && !wasUnconfirmed && previous != NO_HOLD && pool != null && pool.epoch() <= previous) {
                // Released without a new primary: the switchover rolled back after fencing this node, which ended
                // its sessions. Replace the pool's connections so that no borrower gets one of those.
                pool.softEvictConnections();
                pool.fenced();
            }
            // A readable hold names the epoch it applies to: one left over from an older epoch holds nothing.
            holdEpoch = !present
                    ? NO_HOLD
                    : hold != null && hold.epoch() > 0 ? hold.epoch() : pool == null ? HOLD_UNBOUND : pool.epoch();
            holdUnconfirmed = present && hold != null && HoldRecord.UNCONFIRMED_PRIMARY.equals(hold.kind());
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        LOG.info(
                "cluster {}: hold {} ({}{})",
                config.cluster(),
                present ? "set: new borrows wait" : "released",
                config.holdPath(),
                holdUnconfirmed ? ", primary not proven gone: never used again until released or replaced" : "");
    }

    private void closeQuietly(PrimaryPool pool) {
        try {
            pool.close();
        } catch (RuntimeException e) {
            LOG.warn("cluster {}: closing {} failed", config.cluster(), pool, e);
        }
    }

    private HikariConfig hikariConfig(PrimaryRecord record, DriverFlavor flavor) {
        HikariConfig hc = new HikariConfig();
        config.hikari().accept(hc);
        hc.setPoolName("baton-" + config.cluster() + "-e" + record.epoch());
        hc.setJdbcUrl(flavor.jdbcUrl(record.host(), record.port(), config.database()));
        if (config.user() != null) {
            hc.setUsername(config.user());
        }
        if (config.password() != null) {
            hc.setPassword(config.password());
        }
        config.driverProperties().forEach((k, v) -> hc.addDataSourceProperty((String) k, v));
        hc.setInitializationFailTimeout(-1);
        if (hc.getScheduledExecutor() == null) {
            // HikariCP would start a housekeeping thread per pool, and a data source gets a pool per epoch
            hc.setScheduledExecutor(SharedThreads.TIMER);
        }
        metrics.configurePool(hc);
        return hc;
    }

    private String describeCurrent() {
        PrimaryPool pool = current;
        return pool == null ? "no primary (none seen yet)" : PrimaryPool.describe(pool.record());
    }

    // ---------------------------------------------------------------- borrowing

    @Override
    public Connection getConnection() throws SQLException {
        try {
            return router != null && config.readRouting().everyConnection()
                    ? FailoverConnection.wrapForReads(this, lendForRead())
                    : FailoverConnection.wrap(this, lend());
        } catch (SQLException e) {
            metrics.failed(e);
            throw e;
        }
    }

    /**
     * Read routing: a connection to a replica that qualifies ({@link ReadRouting}), else (none qualifies, none answers,
     * or the lease ran out) one to the primary.
     */
    Lent lendForRead() throws SQLException {
        checkOpen();
        ReplicaRouter r = router;
        Lent replica = r == null || !leaseValid() ? null : r.lend();
        return replica != null ? replica : lend();
    }

    /** True when {@code setReadOnly(true)} routes a connection of this read-write data source to a replica. */
    boolean routesReadOnlyConnections() {
        return router != null && !config.readRouting().everyConnection();
    }

    /** The pool of a replica for read routing: the data source's pool settings, read-only. */
    private PrimaryPool replicaPool(PrimaryRecord replica) {
        DriverFlavor flavor = DriverFlavor.forDialect(replica.dialect());
        HikariConfig hc = hikariConfig(replica, flavor);
        hc.setPoolName("baton-" + config.cluster() + "-replica-" + replica.nodeId());
        hc.setReadOnly(true);
        return new PrimaryPool(replica, flavor, hc);
    }

    /** A pooled physical connection and the pool of the primary it belongs to. */
    record Lent(Connection pooled, PrimaryPool pool) {}

    /**
     * Borrows a physical connection from the current primary's pool: waits for the first primary, a switchover hold
     * and an expired lease, then borrows slice after slice until {@code connectionTimeout}.
     */
    Lent lend() throws SQLException {
        checkOpen();
        PrimaryPool pool = current;
        if (pool == null || isHeld(pool)) {
            pool = awaitPrimary();
        }
        if (!leaseValid()) {
            awaitLease(pool);
            pool = current;
        }
        long start = System.nanoTime();
        SQLException explained = null;
        for (int attempt = 0; ; attempt++) {
            Connection pooled;
            try {
                pooled = pool.borrow();
            } catch (SQLException e) {
                if (pool.isRetired() && attempt < 3) {
                    pool = current; // retired (and maybe closed) while we were borrowing
                    metrics.staleBorrow();
                    continue;
                }
                long waited = System.nanoTime() - start;
                // A rejected password or driver setting does not fix itself: fail now. Unless a switchover
                // holds this pool's epoch: its node is being fenced, and the borrow moves on once it is retired.
                SQLException refusal = pool.refusal(e);
                if (refusal != null && !isHeld(pool)) {
                    throw pool.refused(refusal, TimeUnit.NANOSECONDS.toMillis(waited));
                }
                // HikariCP waits one short slice at a time, so that a borrow stuck on a dead primary moves to
                // the new one as soon as it is published instead of waiting out the whole connectionTimeout.
                // A slice that timed out before the pool's connection attempt failed carries no cause: report
                // the last slice that knew why (a refused connection, a timeout).
                if (e.getCause() != null || explained == null) {
                    explained = e;
                }
                if (e instanceof SQLTransientConnectionException && waited < pool.borrowTimeoutNanos()) {
                    attempt = 0;
                    if (pool.isRetired()) {
                        pool = current;
                        metrics.staleBorrow();
                    }
                    continue;
                }
                throw pool.borrowFailed(explained, TimeUnit.NANOSECONDS.toMillis(waited));
            }
            if ((pool.isRetired() || !leaseValid() || (holdUnconfirmed && isHeld(pool))) && attempt < 3) {
                if (pool.isRetired()) {
                    metrics.staleBorrow();
                }
                pooled.close();
                if (!leaseValid()) {
                    awaitLease(pool);
                }
                pool = current;
                if (pool == null || isHeld(pool)) {
                    pool = awaitPrimary(); // a hold set while we borrowed
                }
                continue;
            }
            if (!handedOut) {
                handedOut = true;
            }
            return new Lent(pooled, pool);
        }
    }

    /** Registers a logical connection, so that an expired lease can abort it. */
    void lent(FailoverConnection connection) {
        lentConnections.add(connection);
    }

    void returned(FailoverConnection connection) {
        lentConnections.remove(connection);
    }

    /** True while the ZooKeeper lease lets this data source use the primary it knows (always, without a lease). */
    boolean leaseValid() {
        PrimaryWatch w = watch;
        return !config.lease() || (w != null && w.lease().valid());
    }

    /** Why connections are refused while the lease has run out, for messages. */
    String leaseProblem() {
        PrimaryWatch w = watch;
        long silent = w == null ? -1 : w.lease().silentMillis();
        return "ZooKeeper " + config.zookeeper() + " not heard from for "
                + (silent < 0 ? "ever" : silent + " ms") + ", past leaseTimeout "
                + (w == null ? config.leaseTimeout() : w.lease().timeout()).toMillis() + " ms: connections to "
                + describeCurrent()
                + " are refused and aborted, as a newer primary may have been published";
    }

    private void awaitLease(PrimaryPool pool) throws SQLException {
        lock.lock();
        try {
            long start = System.nanoTime();
            long deadline = start + pool.borrowTimeoutNanos();
            while (!leaseValid()) {
                checkOpen();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw FailoverSqlStates.noPrimary(
                            "no primary for cluster '" + config.cluster() + "' within "
                                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms: "
                                    + leaseProblem(),
                            null);
                }
                changed.awaitNanos(Math.min(remaining, LEASE_POLL_NANOS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The orchestrator is about to replace the primary of {@code epoch}, which it cannot reach or fence: connections
     * lent to it are aborted now, like at the end of the lease, so that none commits there once another node is
     * published; new borrows wait for the new primary (the hold).
     */
    private void onUnconfirmedPrimary(HoldRecord hold) {
        // Off the ZooKeeper event thread: a driver's abort may do network I/O, and watch events must not wait for it.
        // The hold is already in force (onHold ran first): nothing more is lent to that primary meanwhile.
        try {
            SharedThreads.WORKERS.execute(() -> abortAndAcknowledge(hold));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("cluster {}: could not act on the hold: {}", config.cluster(), e.toString());
        }
    }

    /**
     * Aborts what was lent to the held primary, each abort finished (its socket closed) before the next, then
     * acknowledges: the orchestrator may promote as soon as it reads the acknowledgement. An abort that never
     * returns means no acknowledgement, and the orchestrator waits out this data source's lease instead.
     */
    private void abortAndAcknowledge(HoldRecord hold) {
        PrimaryPool pool = current;
        if (pool != null && pool.epoch() <= hold.epoch()) {
            String why = "the orchestrator cannot confirm that the primary " + hold.fromNode() + " of epoch "
                    + hold.epoch() + " is gone and is replacing it";
            // INFO: in a crash this is the normal path, and the orchestrator's events say why
            LOG.info("cluster {}: {}; aborting {} lent connection(s)", config.cluster(), why, lentConnections.size());
            for (FailoverConnection c : lentConnections) {
                c.abortForLease(why);
            }
        }
        // Nothing more is lent there, and every socket lent there is closed.
        PrimaryWatch w = watch;
        if (w != null) {
            w.acknowledge(hold);
        }
    }

    private void onLease(boolean valid) {
        if (valid) {
            LOG.info("cluster {}: ZooKeeper answers again; the lease is renewed", config.cluster());
        } else {
            metrics.leaseExpired();
            String why = leaseProblem();
            LOG.warn("cluster {}: {}; aborting {} lent connection(s)", config.cluster(), why, lentConnections.size());
            for (FailoverConnection c : lentConnections) {
                c.abortForLease(why);
            }
        }
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits while a switchover hold applies to {@code pool} and it has not been superseded, up to
     * {@code holdTimeout}: a held connection's next transaction waits like a borrow does.
     */
    void awaitHoldLifted(PrimaryPool pool) throws SQLException {
        lock.lock();
        try {
            waitOutHold(pool);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(e);
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private void waitOutHold(PrimaryPool pool) throws InterruptedException, SQLException {
        long start = System.nanoTime();
        long deadline = start + config.holdTimeout().toNanos();
        boolean held = false;
        while (isHeld(pool) && !pool.isRetired()) {
            checkOpen();
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                holdOutlasted(start);
                break;
            }
            held = true;
            changed.awaitNanos(remaining);
        }
        if (held) {
            metrics.held(System.nanoTime() - start);
        }
    }

    /**
     * After {@code pool}'s node refused a write (it was fenced): waits up to {@link #FENCE_GRACE_NANOS} for the
     * switchover hold or a newer primary, then for the hold to end. True when the connection has somewhere new to go:
     * a newer primary, or the same node after a switchover that rolled back and made it writable again.
     */
    boolean awaitSwitch(PrimaryPool pool, int fenceGeneration) throws SQLException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + FENCE_GRACE_NANOS;
            while (!switched(pool, fenceGeneration) && !isHeld(pool)) {
                checkOpen();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(remaining);
            }
            waitOutHold(pool);
            return switched(pool, fenceGeneration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A hold outlasted {@code holdTimeout}. A switchover's: proceed to the primary it held (the orchestrator that set it
     * may be gone). One of kind unconfirmed-primary never expires back into its primary, which may replicate to nobody
     * any more: fail with {@link FailoverSqlStates#NO_PRIMARY}.
     */
    private void holdOutlasted(long startNanos) throws SQLException {
        if (holdUnconfirmed) {
            throw FailoverSqlStates.noPrimary(
                    "no primary for cluster '" + config.cluster() + "' within "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos) + " ms: the orchestrator"
                            + " holds " + describeCurrent() + ", which it cannot prove gone, and has not published a"
                            + " new primary yet (hold " + config.holdPath() + ")",
                    null);
        }
        LOG.warn(
                "cluster {}: hold {} outlasted holdTimeout {} ms; proceeding to {}",
                config.cluster(),
                config.holdPath(),
                config.holdTimeout().toMillis(),
                describeCurrent());
    }

    private static boolean switched(PrimaryPool pool, int fenceGeneration) {
        return pool.isRetired() || pool.fenceGeneration() != fenceGeneration;
    }

    private SQLException interrupted(InterruptedException e) {
        return FailoverSqlStates.notRun(
                "interrupted while waiting for the primary of cluster '" + config.cluster() + "'", e);
    }

    boolean isHeld(PrimaryPool pool) {
        long hold = holdEpoch;
        return hold != NO_HOLD && pool.epoch() <= hold;
    }

    private PrimaryPool awaitPrimary() throws SQLException {
        lock.lock();
        try {
            long start = System.nanoTime();
            long deadline = start + config.initialPrimaryTimeout().toNanos();
            while (current == null) {
                checkOpen();
                RuntimeException whyNoPool = noPool;
                if (whyNoPool != null) {
                    throw new SQLNonTransientConnectionException(
                            "cannot create a connection pool for the primary of cluster '" + config.cluster() + "' ("
                                    + whyNoPool.getClass().getName()
                                    + "): is the JDBC driver for its dialect on the class path? The cause says why",
                            "08001",
                            whyNoPool);
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw noPrimary(start);
                }
                changed.awaitNanos(remaining);
            }
            long holdStart = System.nanoTime();
            deadline = holdStart + config.holdTimeout().toNanos();
            boolean held = false;
            while (isHeld(current)) {
                checkOpen();
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    holdOutlasted(holdStart);
                    break;
                }
                held = true;
                changed.awaitNanos(remaining);
            }
            if (held) {
                metrics.held(System.nanoTime() - holdStart);
            }
            return current;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interrupted(e);
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() throws SQLException {
        if (state.get() != State.STARTED) {
            throw new SQLException("FailoverDataSource of cluster '" + config.cluster() + "' is closed", "08003");
        }
    }

    private SQLException noPrimary(long startNanos) {
        boolean connected = watch != null && watch.isConnected();
        return FailoverSqlStates.noPrimary(
                "no primary published for cluster '" + config.cluster() + "' at " + config.primaryPath()
                        + " on ZooKeeper " + config.zookeeper() + " after waiting "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos) + " ms (ZooKeeper "
                        + (connected ? "connected" : "not connected") + ")",
                null);
    }

    /** Not supported: the credentials are those the data source was built with. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException(
                "getConnection(user, password) is not supported: set the user and password on the builder");
    }

    // ---------------------------------------------------------------- observation

    /** The primary new borrows go to, once one has been seen. */
    public Optional<PrimaryRecord> currentPrimary() {
        PrimaryPool pool = current;
        return pool == null ? Optional.empty() : Optional.of(pool.record());
    }

    /** Whether commits and autocommit writes are marked so that a lost acknowledgment can be resolved. */
    boolean resolvesCommitOutcome() {
        return config.resolveCommitOutcome();
    }

    boolean retriesNotCommitted() {
        return config.retryNotCommitted();
    }

    /** True once {@link #getConnection()} has succeeded. */
    boolean hasHandedOutConnection() {
        return handedOut;
    }

    boolean isClosed() {
        return state.get() == State.CLOSED;
    }

    /** The highest epoch seen so far, 0 before the first record. */
    public long newestEpochSeen() {
        return newestEpoch;
    }

    /**
     * Called with every accepted primary record (the first one and each newer epoch), after new borrows go to it, on
     * the data source's ZooKeeper event thread: keep it short, the data source sees no other change meanwhile.
     */
    public void addPrimaryChangeListener(Consumer<PrimaryRecord> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** True while a switchover hold makes new borrows wait. */
    boolean isHolding() {
        PrimaryPool pool = current;
        long hold = holdEpoch;
        return hold != NO_HOLD && (pool == null || pool.epoch() <= hold);
    }

    /** How many records naming another node were refused because their epoch was not newer than the current one. */
    long ignoredRecords() {
        return ignoredRecords.get();
    }

    WrapperMetrics metrics() {
        return metrics;
    }

    /** The id of the ZooKeeper session the primary record is watched with (0 before the first connection). */
    long zooKeeperSessionId() throws Exception {
        return watch.client().getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** The HikariCP pool of the current primary, for metrics; empty before the first record. */
    Optional<HikariPoolMXBean> currentPoolBean() {
        PrimaryPool pool = current;
        return pool == null ? Optional.empty() : Optional.ofNullable(pool.poolBean());
    }

    // ---------------------------------------------------------------- DataSource plumbing

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        this.logWriter = out;
    }

    /** Stored and reported only: use {@link Builder#hikari(Consumer)} to set connection timeouts. */
    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
        return java.util.logging.Logger.getLogger("dev.baton.jdbc");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("FailoverDataSource does not wrap " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "FailoverDataSource[" + config + ", primary=" + describeCurrent() + "]";
    }

    /** Builds a started {@link FailoverDataSource}; arguments are checked in {@link #build()}. */
    public static final class Builder {
        private String zookeeper;
        private String namespace = RegistryPaths.DEFAULT_NAMESPACE;
        private String cluster;
        private String user;
        private String password;
        private String database;
        private final Properties properties = new Properties();
        private Consumer<HikariConfig> hikari = c -> {};
        private Duration initialPrimaryTimeout = Duration.ofSeconds(10);
        private Duration holdTimeout = Duration.ofSeconds(10);
        private boolean lease = true;
        private Duration leaseTimeout = FailoverConfig.DEFAULT_LEASE_TIMEOUT;
        /** A Micrometer MeterRegistry, held as Object so that this class loads without Micrometer. */
        private Object meterRegistry;

        private boolean resolveCommitOutcome;
        private boolean retryNotCommitted;
        private boolean readOnly;
        private boolean routeReadOnlyConnections;
        private long maxReplicaLagBytes = ReadRouting.DEFAULT_MAX_LAG_BYTES;
        private Duration maxReplicaLag = ReadRouting.DEFAULT_MAX_LAG;
        private Duration maxReplicaStateAge = ReadRouting.DEFAULT_MAX_STATE_AGE;
        private ReplicaBalance replicaBalance = ReplicaBalance.ROUND_ROBIN;

        private Builder() {}

        /** ZooKeeper connect string, {@code host:port[,host:port...]}. */
        public Builder zookeeper(String connect) {
            this.zookeeper = connect;
            return this;
        }

        /** ZooKeeper namespace (chroot without the slash), default {@code baton}. */
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder cluster(String cluster) {
            this.cluster = cluster;
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** The database name put in the JDBC URL of every primary. */
        public Builder database(String database) {
            this.database = database;
            return this;
        }

        /** A property for the underlying JDBC driver (pgjdbc, Connector/J). */
        public Builder property(String key, String value) {
            properties.setProperty(key, value);
            return this;
        }

        public Builder properties(Properties driverProperties) {
            driverProperties.forEach(properties::put);
            return this;
        }

        /**
         * Pool settings, applied to the HikariConfig of every primary's pool. The JDBC URL, user, password,
         * pool name and {@code initializationFailTimeout} are set by the data source afterwards.
         */
        public Builder hikari(Consumer<HikariConfig> customizer) {
            this.hikari = Objects.requireNonNull(customizer, "hikari");
            return this;
        }

        /** How long {@code getConnection} waits for the first primary record, default 10 s. */
        public Builder initialPrimaryTimeout(Duration timeout) {
            this.initialPrimaryTimeout = timeout;
            return this;
        }

        /** How long {@code getConnection} waits while a switchover hold is set, default 10 s. */
        public Builder holdTimeout(Duration timeout) {
            this.holdTimeout = timeout;
            return this;
        }

        /**
         * Partition safety, on by default: after {@link #leaseTimeout(Duration)} without an answer from ZooKeeper,
         * refuse connections to the primary this data source knows and abort the ones it lent, because the
         * orchestrator may have promoted another node meanwhile. {@code false} keeps using the last known primary
         * through a ZooKeeper outage (availability over safety). See docs/wrapper.md.
         */
        public Builder lease(boolean enabled) {
            this.lease = enabled;
            return this;
        }

        /**
         * How long this data source keeps using the primary it knows without an answer from ZooKeeper, default
         * 2 s (the orchestrator's {@code clientLeaseTimeout} must be at least this). Counted from the moment the last request ZooKeeper answered was sent.
         */
        public Builder leaseTimeout(Duration timeout) {
            this.leaseTimeout = timeout;
            return this;
        }

        /**
         * Reports to this Micrometer registry: HikariCP's {@code hikaricp.*} pool meters under the pool name
         * {@code baton-<cluster>}, the same in every epoch, and Baton's {@code baton.wrapper.*} meters (epoch,
         * moves, holds, stale borrows, lease expiries, contract errors); see docs/wrapper.md. Optional: without a
         * registry the wrapper needs no Micrometer on the class path. The meters are removed on {@link #close()}.
         */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        /**
         * Commit outcome resolution, off by default: when the acknowledgment of a {@code commit()} or an autocommit
         * write is lost with its connection, ask the primary serving afterwards whether it committed, and return
         * normally (with a {@link FailoverSqlStates#RESOLVED_COMMITTED} warning on the connection) or fail with
         * {@link FailoverSqlStates#NOT_COMMITTED} instead of {@link FailoverSqlStates#OUTCOME_UNKNOWN}. Costs a round
         * trip per commit, two per autocommit write on PostgreSQL (see docs/wrapper.md).
         */
        public Builder resolveCommitOutcome(boolean enabled) {
            this.resolveCommitOutcome = enabled;
            return this;
        }

        /**
         * With {@link #resolveCommitOutcome}, off by default: an autocommit write found not committed
         * ({@link FailoverSqlStates#NOT_COMMITTED}) is run once more, on the primary serving now, instead of failing.
         * It had no effect, so this is what the application would do. A transaction is not retried: its statements
         * are the application's.
         */
        public Builder retryNotCommitted(boolean enabled) {
            this.retryNotCommitted = enabled;
            return this;
        }

        /**
         * A read-only data source, off by default: its connections are read-only and go to a replica whose lag,
         * as the orchestrator publishes it in ZooKeeper, is under {@link #maxReplicaLag}; to the primary when none
         * qualifies. Balanced by {@link #replicaBalance}. See docs/wrapper.md, "Read routing".
         */
        public Builder readOnly(boolean enabled) {
            this.readOnly = enabled;
            return this;
        }

        /**
         * Read routing: skip a replica whose published lag is above {@code bytes} (PostgreSQL: WAL bytes; MariaDB/MySQL:
         * transactions) or {@code lag}; default 16 MiB and 10 s.
         */
        public Builder maxReplicaLag(long bytes, Duration lag) {
            this.maxReplicaLagBytes = bytes;
            this.maxReplicaLag = lag;
            return this;
        }

        /** Read routing: skip a replica whose node state was last published longer ago than this, default 10 s. */
        public Builder maxReplicaStateAge(Duration age) {
            this.maxReplicaStateAge = age;
            return this;
        }

        /**
         * Read routing on a read-write data source, off by default: a connection the application makes read-only with
         * {@code setReadOnly(true)} goes to a replica (as for {@link #readOnly}) at its next statement between
         * transactions, and back to the primary after {@code setReadOnly(false)}.
         */
        public Builder routeReadOnlyConnections(boolean enabled) {
            this.routeReadOnlyConnections = enabled;
            return this;
        }

        /** Read routing: round robin (default) or least lag. */
        public Builder replicaBalance(ReplicaBalance balance) {
            this.replicaBalance = balance;
            return this;
        }

        public FailoverDataSource build() {
            FailoverConfig config = new FailoverConfig(
                    zookeeper,
                    namespace,
                    cluster,
                    user,
                    password,
                    database,
                    properties,
                    hikari,
                    initialPrimaryTimeout,
                    holdTimeout,
                    lease,
                    leaseTimeout,
                    resolveCommitOutcome,
                    retryNotCommitted,
                    readOnly || routeReadOnlyConnections
                            ? new ReadRouting(
                                    readOnly, maxReplicaLagBytes, maxReplicaLag, maxReplicaStateAge, replicaBalance)
                            : null);
            WrapperMetrics metrics =
                    meterRegistry == null ? WrapperMetrics.NONE : MicrometerMetrics.create(meterRegistry, cluster);
            FailoverDataSource ds = new FailoverDataSource(config, metrics);
            ds.start();
            return ds;
        }
    }
}
