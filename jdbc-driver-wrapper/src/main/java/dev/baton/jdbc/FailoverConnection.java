package dev.baton.jdbc;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection applications get: a logical connection over one pooled physical connection at a time.
 *
 * <ul>
 *   <li>Between transactions (autocommit, or after commit/rollback) it moves to the current primary when its next
 *       statement starts, if its server was superseded by a newer epoch, was fenced by a switchover that rolled
 *       back, failed, or the ZooKeeper lease ran out. It carries the {@link SessionState} set through JDBC and
 *       prepares its open statements again ({@link FailoverStatement}).
 *   <li>While a switchover hold applies to its server, a statement that would start a transaction waits, as a
 *       borrow does. Statements of a transaction already open are not held, so that it can finish before the fence.
 *   <li>Failures caused by a failover, switchover or the lease end in one of the {@link FailoverSqlStates}, with
 *       the driver's exception as the cause. A write refused because the server was fenced in autocommit never
 *       ran: it is run again on the new primary once the switchover publishes it.
 *   <li>A connection that set session state with SQL ({@link SessionState#untracked}) cannot move: it fails with
 *       {@link FailoverSqlStates#SESSION_LOST} instead of silently losing that state.
 * </ul>
 *
 * <p>Like a JDBC connection, it is meant for one thread at a time; only the lease abort comes from another thread.
 */
final class FailoverConnection implements InvocationHandler {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverConnection.class);
    private static final Constructor<?> CONNECTION_PROXY = proxyConstructor();

    /** What a failed call was doing, which decides the contract error. */
    enum Kind {
        QUERY,
        WRITE,
        BATCH,
        COMMIT,
        OTHER
    }

    /**
     * A failure mapped into the contract; {@code retryAfterSwitch} when the statement never ran on a fenced node;
     * {@code committed} (else null) when commit outcome resolution found that the commit in flight did commit: the
     * caller may return normally with this warning, or throw {@code exception} when it has no result to return.
     */
    record Failure(SQLException exception, boolean retryAfterSwitch, SQLWarning committed) {
        Failure(SQLException exception, boolean retryAfterSwitch) {
            this(exception, retryAfterSwitch, null);
        }
    }

    /** Where a commit that outcome resolution follows is. */
    private enum InFlight {
        NONE,
        /** In a transaction Baton opened around an autocommit write, before its commit was sent: not committed. */
        BEFORE_COMMIT,
        /** The commit (or the autocommit write) was sent after {@link #marker} was taken. */
        SENT
    }

    /** Runs the application's statement on the physical one. */
    interface Execution {
        Object run() throws Throwable;
    }

    private final FailoverDataSource ds;
    /** A connection of a read-only data source: it moves to a replica (or the primary) through the read routing. */
    private boolean forReads;
    /** {@code setReadOnly} changed {@link #forReads}: the connection moves at its next statement. */
    private boolean rerouted;

    private final Connection self;
    private final SessionState session;

    private volatile Connection pooled;
    private volatile PrimaryPool pool;
    private int fenceGeneration;
    private volatile int serial;
    /** Set (from the lease thread) when the physical connection was aborted. */
    private volatile String abortedBecause;
    /**
     * Counts aborts, so that a move can tell whether one landed while it was opening the new physical connection
     * (the abort then hit the old one, and must not be forgotten).
     */
    private final java.util.concurrent.atomic.AtomicInteger aborts = new java.util.concurrent.atomic.AtomicInteger();

    private volatile boolean broken;
    private boolean inTransaction;
    private String transactionLostBecause;
    private String untracked;
    private SQLException sessionLost;
    private volatile boolean closed;

    private InFlight inFlight = InFlight.NONE;
    private CommitOutcome.Marker marker;
    /** Set when outcome resolution found a lost acknowledgment committed; returned by getWarnings(). */
    private SQLWarning resolvedWarning;

    private FailoverConnection(FailoverDataSource ds, FailoverDataSource.Lent lent, boolean forReads)
            throws SQLException {
        this.ds = ds;
        this.forReads = forReads;
        this.pooled = lent.pooled();
        this.pool = lent.pool();
        this.fenceGeneration = lent.pool().fenceGeneration();
        this.session = new SessionState(lent.pooled().getAutoCommit());
        this.self = (Connection)
                FailoverStatement.newProxy(CONNECTION_PROXY, ds.metrics().countingFailures(this));
    }

    static Connection wrap(FailoverDataSource ds, FailoverDataSource.Lent lent) throws SQLException {
        FailoverConnection c = new FailoverConnection(ds, lent, false);
        ds.lent(c);
        return c.self;
    }

    /** A read-only connection of a read-only data source, on a replica or (fallback) the primary. */
    static Connection wrapForReads(FailoverDataSource ds, FailoverDataSource.Lent lent) throws SQLException {
        FailoverConnection c = new FailoverConnection(ds, lent, true);
        Object[] readOnly = {Boolean.TRUE};
        try {
            lent.pooled().setReadOnly(true);
        } catch (SQLException e) {
            closeQuietly(lent.pooled());
            throw e;
        }
        c.session.record("setReadOnly", readOnly);
        ds.lent(c);
        return c.self;
    }

    Connection self() {
        return self;
    }

    /** {@code handler} as the proxy of a statement of this connection should call it (failures counted). */
    java.lang.reflect.InvocationHandler countingFailures(java.lang.reflect.InvocationHandler handler) {
        return ds.metrics().countingFailures(handler);
    }

    int serial() {
        return serial;
    }

    boolean isClosedQuietly() {
        return closed;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "close":
                close();
                return null;
            case "isClosed":
                return closed;
            case "isValid":
                return isValid((Integer) args[0]);
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "BatonConnection[" + PrimaryPool.describe(pool.record()) + ", " + pooled + "]";
            case "unwrap":
                return ((Class<?>) args[0]).isInstance(proxy)
                        ? proxy
                        : physical().unwrap((Class<?>) args[0]);
            case "isWrapperFor":
                return ((Class<?>) args[0]).isInstance(proxy) || physical().isWrapperFor((Class<?>) args[0]);
            case "getAutoCommit":
                checkOpen();
                return session.autoCommit();
            case "commit":
                commit();
                return null;
            case "getWarnings":
                checkOpen();
                if (resolvedWarning != null) {
                    return resolvedWarning;
                }
                return local(method, args);
            case "clearWarnings":
                resolvedWarning = null;
                return local(method, args);
            case "rollback":
                if (args == null || args.length == 0) {
                    rollback();
                    return null;
                }
                break;
            case "abort":
                abort((java.util.concurrent.Executor) args[0]);
                return null;
            case "createStatement":
            case "prepareStatement":
            case "prepareCall":
                checkOpen();
                return FailoverStatement.create(this, method, args);
            default:
                if (name.startsWith("set") && setSession(method, args)) {
                    return null;
                }
                if (isLocal(name)) {
                    return local(method, args);
                }
                break;
        }
        boolean hadWork = begin();
        try {
            return method.invoke(pooled, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof SQLException cause) {
                throw fail(cause, Kind.OTHER, hadWork).exception();
            }
            throw e.getCause();
        }
    }

    /**
     * Getters, warnings and the factories of LOBs, arrays and structs: no transaction starts, no hold applies; a stale
     * connection moves first.
     */
    private static boolean isLocal(String name) {
        return name.startsWith("get")
                || name.startsWith("is")
                || name.startsWith("create")
                || name.equals("clearWarnings")
                || name.equals("nativeSQL");
    }

    private Object local(Method method, Object[] args) throws Throwable {
        checkUsable();
        if (!inTransaction && needsMove()) {
            gate();
        }
        try {
            return method.invoke(pooled, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof SQLException cause) {
                throw fail(cause, Kind.OTHER, inTransaction).exception();
            }
            throw e.getCause();
        }
    }

    // ---------------------------------------------------------------- the gate at the start of every statement

    /**
     * Called before a statement (or any call that talks to the server) starts. Returns whether a transaction with
     * earlier statements is open. Waits while a switchover hold applies to this connection's server, and moves the
     * connection when it is between transactions and its server is no longer the one to use.
     */
    boolean begin() throws SQLException {
        checkUsable();
        inFlight = InFlight.NONE;
        marker = null;
        if (inTransaction) {
            String why = !ds.leaseValid() ? ds.leaseProblem() : needsMove() ? staleReason() : null;
            if (why != null) {
                inTransaction = false;
                transactionLostBecause = why;
                dropPhysical();
                throw FailoverSqlStates.transactionLost(why + " (" + describe() + ")", null);
            }
            return true;
        }
        gate();
        if (!session.autoCommit()) {
            inTransaction = true;
        }
        return false;
    }

    /** The hold and the move, for a connection between transactions. */
    private void gate() throws SQLException {
        PrimaryPool p = pool;
        if (p != null && ds.isHeld(p)) {
            ds.awaitHoldLifted(p);
        }
        if (!ds.leaseValid() || needsMove()) {
            move();
        }
    }

    private void checkUsable() throws SQLException {
        checkOpen();
        if (sessionLost != null) {
            throw FailoverSqlStates.sessionLost(sessionLost.getMessage(), sessionLost);
        }
        if (transactionLostBecause != null) {
            throw FailoverSqlStates.transactionLost(
                    "the transaction was lost earlier (" + transactionLostBecause + ") and rollback() was not called",
                    null);
        }
    }

    private void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLException("connection is closed", "08003");
        }
    }

    private boolean needsMove() {
        PrimaryPool p = pool;
        return pooled == null
                || broken
                || abortedBecause != null
                || rerouted
                || p.isRetired()
                || p.fenceGeneration() != fenceGeneration;
    }

    private String staleReason() {
        PrimaryPool p = pool;
        if (abortedBecause != null) {
            return abortedBecause;
        }
        if (rerouted) {
            return "setReadOnly(" + forReads + ") routes it to " + (forReads ? "a replica" : "the primary");
        }
        if (p.isRetired() && p.epoch() == ReplicaRouter.REPLICA_EPOCH) {
            return "replica " + PrimaryPool.describe(p.record()) + " no longer qualifies for reads";
        }
        if (p.isRetired()) {
            return "the primary moved from " + PrimaryPool.describe(p.record()) + " to "
                    + PrimaryPool.describe(p.successor());
        }
        if (p.fenceGeneration() != fenceGeneration) {
            return "a switchover fenced " + PrimaryPool.describe(p.record()) + " and rolled back, ending its sessions";
        }
        return "the connection to " + PrimaryPool.describe(p.record()) + " failed";
    }

    private void move() throws SQLException {
        String why = staleReason();
        if (untracked != null) {
            sessionLost = new SQLException(
                    "cannot move the connection to the current primary: it holds " + untracked
                            + ", which Baton cannot carry to another server, and " + why,
                    FailoverSqlStates.SESSION_LOST);
            dropPhysical();
            throw FailoverSqlStates.sessionLost(sessionLost.getMessage(), null);
        }
        int abortsBefore = aborts.get();
        FailoverDataSource.Lent lent = forReads ? ds.lendForRead() : ds.lend();
        try {
            session.applyTo(lent.pooled());
        } catch (SQLException e) {
            closeQuietly(lent.pooled());
            throw FailoverSqlStates.notRun(
                    "cannot restore the connection's settings on "
                            + PrimaryPool.describe(lent.pool().record()),
                    e);
        }
        PrimaryPool from = pool;
        WrapperMetrics.MoveReason reason = abortedBecause != null
                ? WrapperMetrics.MoveReason.LEASE
                : from.isRetired()
                        ? WrapperMetrics.MoveReason.NEW_PRIMARY
                        : from.fenceGeneration() != fenceGeneration
                                ? WrapperMetrics.MoveReason.FENCED
                                : WrapperMetrics.MoveReason.FAILED;
        dropPhysical();
        pooled = lent.pooled();
        pool = lent.pool();
        fenceGeneration = lent.pool().fenceGeneration();
        broken = false;
        rerouted = false;
        serial++;
        String abortedMeanwhile = abortedBecause;
        abortedBecause = null;
        if (aborts.get() != abortsBefore) {
            // An abort (lease expiry, unconfirmed hold) landed while the new connection was being opened: it hit the
            // old one. Apply it to the new one too, so that the next statement does not go out unchecked.
            abortForLease(abortedMeanwhile);
        }
        ds.metrics().moved(reason);
        LOG.debug(
                "cluster {}: connection moved from {} to {}: {}",
                from.record().cluster(),
                PrimaryPool.describe(from.record()),
                PrimaryPool.describe(pool.record()),
                why);
    }

    /** Evicts and closes the physical connection; the next statement borrows a new one. */
    private void dropPhysical() {
        Connection p = pooled;
        if (p == null) {
            return;
        }
        pooled = null;
        broken = true;
        try {
            if (!p.isClosed()) {
                pool.evict(p);
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debug("evicting {} failed", p, e);
        }
        closeQuietly(p);
    }

    // ---------------------------------------------------------------- errors

    /**
     * Maps a driver failure into the contract when it says the connection or the node is lost for this session
     * (fenced, terminated, broken, aborted by the lease); any other error is the application's and is returned as
     * is. {@code hadWork}: a transaction with earlier statements was open.
     */
    Failure fail(SQLException e, Kind kind, boolean hadWork) {
        InFlight flight = inFlight;
        CommitOutcome.Marker mark = marker;
        inFlight = InFlight.NONE;
        marker = null;
        DriverFlavor flavor = pool.flavor();
        boolean readOnly = flavor.isReadOnly(e) && !session.readOnlyRequested();
        String aborted = abortedBecause;
        boolean lost = readOnly || aborted != null || flavor.isConnectionBroken(e);
        if (!lost) {
            return new Failure(e, false);
        }
        boolean wasInTransaction = inTransaction;
        inTransaction = false;
        broken = true;
        if (!readOnly) {
            // The server or the session died: the pool's idle connections to it are likely dead too, and HikariCP
            // hands out a connection used in the last 500 ms without testing it. Replace them.
            pool.softEvictConnections();
        }
        String what = aborted != null
                ? aborted
                : readOnly
                        ? "the server refused writes (it was fenced)"
                        : "the connection failed (SQLState " + e.getSQLState() + ")";
        String where = " on " + describe();
        if (kind == Kind.COMMIT && wasInTransaction) {
            return readOnly
                    ? new Failure(FailoverSqlStates.transactionLost("commit failed: " + what + where, e), false)
                    : outcome("commit failed: " + what + where, e, flight, mark);
        }
        if (hadWork) {
            transactionLostBecause = what;
            return new Failure(FailoverSqlStates.transactionLost(what + where, e), false);
        }
        if (readOnly && kind != Kind.BATCH) {
            return new Failure(FailoverSqlStates.notRun(what + where, e), true);
        }
        if (kind == Kind.QUERY || kind == Kind.OTHER || !session.autoCommit()) {
            // a read, or the first statement of a transaction that was never committed
            return new Failure(FailoverSqlStates.notRun(what + where, e), false);
        }
        return outcome("a write was in flight: " + what + where, e, flight, mark);
    }

    /**
     * The failure for a commit or autocommit write whose acknowledgment was lost: 08007, unless outcome resolution
     * follows it ({@code flight}), which then asks the primary serving now what became of it.
     */
    private Failure outcome(String message, SQLException e, InFlight flight, CommitOutcome.Marker mark) {
        if (flight == InFlight.BEFORE_COMMIT) {
            return new Failure(FailoverSqlStates.notCommitted(message + " before its commit was sent", e), false);
        }
        if (flight != InFlight.SENT || mark == null) {
            return new Failure(FailoverSqlStates.outcomeUnknown(message, e), false);
        }
        CommitOutcome.Answer answer = mark.wroteNothing()
                ? CommitOutcome.Answer.of(CommitOutcome.Outcome.COMMITTED, null)
                : CommitOutcome.ask(ds, mark);
        return switch (answer.outcome()) {
            case COMMITTED -> new Failure(
                    FailoverSqlStates.outcomeUnknown(message, e),
                    false,
                    FailoverSqlStates.resolvedCommitted(message + " (" + mark + ")"));
            case NOT_COMMITTED -> new Failure(FailoverSqlStates.notCommitted(message + " (" + mark + ")", e), false);
            case UNKNOWN -> new Failure(
                    FailoverSqlStates.outcomeUnknown(message + " (not resolved: " + answer.why() + ")", e), false);
        };
    }

    /** True when the next statement of {@code kind} is an autocommit write whose outcome resolution follows. */
    /**
     * True when {@code e} says an autocommit write did not commit and the data source runs such writes again
     * ({@link FailoverDataSource.Builder#retryNotCommitted}): it had no effect, so running it once more on the primary
     * serving now is what the application would do.
     */
    boolean retriesNotCommitted(SQLException e) {
        return FailoverSqlStates.NOT_COMMITTED.equals(e.getSQLState())
                && session.autoCommit()
                && ds.retriesNotCommitted();
    }

    /**
     * True when an application-marked idempotent statement that failed with {@code e} runs once more on the primary
     * serving next: it ran alone in autocommit (no transaction of the application's is lost with it) and the failure
     * is one the contract calls a failover's (never ran, outcome unknown, not committed).
     */
    boolean retriesIdempotent(SQLException e, boolean hadWork) {
        String state = e.getSQLState();
        boolean retryable = FailoverSqlStates.NOT_RUN.equals(state)
                || FailoverSqlStates.OUTCOME_UNKNOWN.equals(state)
                || FailoverSqlStates.NOT_COMMITTED.equals(state);
        if (retryable && !hadWork && session.autoCommit()) {
            LOG.info("running an idempotent statement again after: {}", e.getMessage());
            ds.metrics().idempotentRetry();
            return true;
        }
        return false;
    }

    boolean resolvesWrite(Kind kind, boolean hadWork) {
        return !hadWork
                && (kind == Kind.WRITE || kind == Kind.BATCH)
                && session.autoCommit()
                && ds.resolvesCommitOutcome();
    }

    /**
     * Runs an autocommit write so that a lost acknowledgment can be resolved. PostgreSQL: in a transaction Baton opens
     * (no extra round trip: pgjdbc sends BEGIN with the statement), then one query for the transaction id, then the
     * commit: two round trips more. A failure before the commit was sent is {@link FailoverSqlStates#NOT_COMMITTED}.
     * SQL that cannot run in a transaction block (25001: VACUUM, CREATE INDEX CONCURRENTLY) runs as it is, without
     * resolution. MariaDB/MySQL: one query for the GTID position before the write, which runs in autocommit.
     * Failures of the write are thrown as the {@link java.lang.reflect.InvocationTargetException} to map with
     * {@link #fail}; failures of the commit are thrown mapped.
     */
    Object resolvedWrite(Kind kind, Execution write) throws Throwable {
        Connection p = pooled;
        DriverFlavor flavor = pool.flavor();
        if (flavor != DriverFlavor.POSTGRESQL) {
            CommitOutcome.Marker m;
            try {
                m = CommitOutcome.mark(flavor, p);
            } catch (SQLException e) {
                throw fail(e, Kind.OTHER, false).exception();
            }
            marker = m;
            inFlight = InFlight.SENT;
            Object result = write.run();
            inFlight = InFlight.NONE;
            marker = null;
            return result;
        }
        p.setAutoCommit(false);
        inFlight = InFlight.BEFORE_COMMIT;
        Object result;
        CommitOutcome.Marker m;
        try {
            result = write.run();
            m = CommitOutcome.mark(flavor, p);
        } catch (InvocationTargetException | SQLException e) {
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            endOwnTransaction(p);
            if (cause instanceof SQLException sql && "25001".equals(sql.getSQLState()) && !broken) {
                inFlight = InFlight.NONE;
                return write.run(); // cannot run in a transaction block: as it is, unresolved
            }
            throw e instanceof InvocationTargetException ? e : new InvocationTargetException(e);
        }
        marker = m;
        inFlight = InFlight.SENT;
        try {
            p.commit();
        } catch (SQLException e) {
            Failure f = fail(e, kind, false);
            if (f.committed() != null) {
                resolvedWarning = f.committed();
                return result;
            }
            throw f.exception();
        }
        inFlight = InFlight.NONE;
        marker = null;
        try {
            p.setAutoCommit(true); // no round trip: no transaction is open
        } catch (SQLException e) {
            broken = true; // committed; the connection is replaced at the next statement
        }
        return result;
    }

    /** Rolls back the transaction Baton opened around an autocommit write, and turns autocommit on again. */
    private static void endOwnTransaction(Connection p) {
        try {
            p.rollback();
            p.setAutoCommit(true);
        } catch (SQLException e) {
            LOG.debug("ending the transaction around an autocommit write on {} failed", p, e);
        }
    }

    /**
     * After a write refused by a fenced node: waits for the switchover (or failover) that fenced it to publish a
     * primary. True when there is one to run the statement on.
     */
    boolean awaitSwitch(SQLException refused) throws SQLException {
        return ds.awaitSwitch(pool, fenceGeneration);
    }

    /** Called after a statement ran: SQL that creates session state Baton cannot carry pins the connection. */
    void executed(String sql) {
        if (untracked == null) {
            untracked = SessionState.untracked(sql);
        }
    }

    // ---------------------------------------------------------------- transactions and session settings

    private void commit() throws SQLException {
        checkOpen();
        if (transactionLostBecause != null) {
            String why = transactionLostBecause;
            transactionLostBecause = null;
            throw FailoverSqlStates.transactionLost("commit of a lost transaction (" + why + ")", null);
        }
        boolean hadWork = begin();
        if (hadWork && ds.resolvesCommitOutcome()) {
            try {
                marker = CommitOutcome.mark(pool.flavor(), pooled);
            } catch (SQLException e) {
                throw fail(e, Kind.OTHER, true).exception(); // the commit was not sent: the transaction is lost
            }
            inFlight = InFlight.SENT;
        }
        try {
            pooled.commit();
            inTransaction = false;
            inFlight = InFlight.NONE;
            marker = null;
        } catch (SQLException e) {
            Failure f = fail(e, hadWork ? Kind.COMMIT : Kind.OTHER, hadWork);
            if (f.committed() != null) {
                resolvedWarning = f.committed();
                return;
            }
            throw f.exception();
        }
    }

    private void rollback() throws SQLException {
        checkOpen();
        transactionLostBecause = null;
        inTransaction = false;
        if (pooled == null || needsMove()) {
            return; // the transaction ended with its connection
        }
        try {
            pooled.rollback();
        } catch (SQLException e) {
            if (fail(e, Kind.OTHER, false).exception() == e) {
                throw e;
            }
            // the connection is gone, and the transaction with it: rolled back
        }
    }

    /**
     * JDBC session setters: recorded, and passed to the physical connection when it is healthy; when it is not,
     * they are applied when the connection moves. Returns false for other {@code set*} methods.
     */
    private boolean setSession(Method method, Object[] args) throws SQLException {
        String name = method.getName();
        if (!isSessionSetter(name)) {
            return false;
        }
        checkOpen();
        if (name.equals("setReadOnly")
                && !inTransaction
                && (Boolean) args[0] != forReads
                && ds.routesReadOnlyConnections()) {
            forReads = (Boolean) args[0];
            rerouted = true; // recorded below, applied where it moves
        }
        if (name.equals("setAutoCommit") && (Boolean) args[0] && !session.autoCommit()) {
            if (transactionLostBecause != null) {
                transactionLostBecause = null; // the application ends the lost transaction
                inTransaction = false;
            } else if (inTransaction) {
                commit(); // JDBC: switching autocommit on commits the open transaction
            }
        }
        if (pooled == null || needsMove()) {
            session.record(name, args);
            return true;
        }
        try {
            method.invoke(pooled, args);
            session.record(name, args);
        } catch (InvocationTargetException e) {
            if (!(e.getCause() instanceof SQLException cause)) {
                throw new SQLException(e.getCause());
            }
            Failure f = fail(cause, Kind.OTHER, inTransaction);
            if (f.exception() == cause || transactionLostBecause != null) {
                throw f.exception();
            }
            session.record(name, args); // the connection is gone: applied where it moves
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return true;
    }

    private static boolean isSessionSetter(String name) {
        return switch (name) {
            case "setAutoCommit",
                    "setTransactionIsolation",
                    "setReadOnly",
                    "setCatalog",
                    "setSchema",
                    "setHoldability",
                    "setNetworkTimeout",
                    "setClientInfo" -> true;
            default -> false;
        };
    }

    private boolean isValid(int timeoutSeconds) throws SQLException {
        if (closed || sessionLost != null) {
            return false;
        }
        try {
            if (!inTransaction) {
                gate();
            } else if (!ds.leaseValid() || needsMove()) {
                return false;
            }
            return pooled.isValid(timeoutSeconds);
        } catch (SQLException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- for statements

    /** The physical connection when it can be used as it is, else null. */
    Connection healthyPhysical() {
        return needsMove() ? null : pooled;
    }

    /** The physical connection a statement is (re)created on; moves first when needed between transactions. */
    Connection physicalForStatement() throws SQLException {
        if (needsMove()) {
            if (inTransaction) {
                begin(); // throws: the transaction is lost
            }
            gate();
        }
        return pooled;
    }

    Object callPhysical(Method method, Object target, Object[] args) throws SQLException {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof SQLException cause) {
                throw fail(cause, Kind.OTHER, inTransaction).exception();
            }
            throw new SQLException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Any other statement method (results, metadata, warnings): on the statement as it is, errors mapped. */
    Object callOther(Method method, Object target, Object[] args) throws SQLException {
        return callPhysical(method, target, args);
    }

    private Connection physical() throws SQLException {
        Connection p = pooled;
        if (p == null) {
            gate();
            p = pooled;
        }
        return p;
    }

    // ---------------------------------------------------------------- lease and close

    /**
     * Aborts the physical connection because the ZooKeeper lease ran out or a hold names its primary: this connection
     * refuses every later gated call, and the driver closes the socket before this returns (the server then ends the
     * session and rolls back what it had not committed). Called on the lease timer, or on a worker for a hold, never
     * on the ZooKeeper event thread.
     */
    void abortForLease(String why) {
        abortedBecause = why;
        aborts.incrementAndGet();
        Connection p = pooled;
        if (p == null) {
            return;
        }
        try {
            p.unwrap(Connection.class).abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("aborting {} failed", p, e);
        }
    }

    /**
     * {@link Connection#abort}: the socket is closed at once (through {@code executor}, as the driver does it), and the
     * pool entry is evicted and given back, so that an aborted connection never holds a place in the pool.
     */
    private void abort(java.util.concurrent.Executor executor) throws SQLException {
        if (closed) {
            return; // JDBC: aborting a closed connection does nothing
        }
        closed = true;
        ds.returned(this);
        Connection p = pooled;
        pooled = null;
        if (p == null) {
            return;
        }
        try {
            p.unwrap(Connection.class).abort(executor);
        } finally {
            try {
                pool.evict(p);
            } catch (RuntimeException e) {
                LOG.debug("evicting {} failed", p, e);
            }
            closeQuietly(p);
        }
    }

    private void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        ds.returned(this);
        Connection p = pooled;
        pooled = null;
        if (p == null) {
            return;
        }
        if (broken || abortedBecause != null) {
            try {
                pool.evict(p);
            } catch (RuntimeException e) {
                LOG.debug("evicting {} failed", p, e);
            }
            closeQuietly(p);
            return;
        }
        p.close();
    }

    private String describe() {
        return PrimaryPool.describe(pool.record()) + " of cluster '"
                + pool.record().cluster() + "'";
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("closing {} failed", c, e);
        }
    }

    private static Constructor<?> proxyConstructor() {
        try {
            return Proxy.newProxyInstance(
                            FailoverConnection.class.getClassLoader(),
                            new Class<?>[] {Connection.class},
                            (p, m, a) -> null)
                    .getClass()
                    .getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("no proxy constructor for Connection", e);
        }
    }
}
