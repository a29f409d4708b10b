package dev.baton.jdbc;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLWarning;

/**
 * The SQLStates a Baton connection fails with when the primary moves, dies, is fenced or cannot be confirmed.
 * Applications code against these; the server's own fencing errors (PostgreSQL 57P01-57P03, 25006, MariaDB/MySQL
 * 1290, 1836, 1927, 2013, 08S01) never reach them raw during a failover or switchover: they are the cause of one of
 * these. See {@code docs/wrapper.md}.
 *
 * <p>Subclasses starting with {@code R} are implementation-defined under the SQL standard (subclass characters
 * I-Z); {@code 08007} is the standard's own "transaction resolution unknown".
 */
public final class FailoverSqlStates {
    /** The statement never ran: retry it as it is (on the same connection, which moves on its next statement). */
    public static final String NOT_RUN = "08R01";

    /** A commit, or an autocommit write, was in flight when the connection failed: it may or may not have committed. */
    public static final String OUTCOME_UNKNOWN = "08007";

    /** The open transaction was rolled back (its connection failed or moved): call rollback(), retry it whole. */
    public static final String TRANSACTION_LOST = "40R01";

    /** No usable primary within the timeout: none published, unreachable, or ZooKeeper silent past the lease. */
    public static final String NO_PRIMARY = "08R02";

    /**
     * The connection had session state Baton cannot carry to another server (set with SQL: session variables,
     * temporary tables, server-side prepared statements, session locks) and its server is gone: open a new one.
     */
    public static final String SESSION_LOST = "08R03";

    /**
     * Commit outcome resolution ({@code resolveCommitOutcome}) found that a commit or autocommit write whose
     * acknowledgment was lost did not commit on the primary serving now: retry it.
     */
    public static final String NOT_COMMITTED = "08R04";

    /**
     * The SQLState of the {@link SQLWarning} on the connection when commit outcome resolution found that a commit or
     * autocommit write whose acknowledgment was lost did commit: the call returned normally.
     */
    public static final String RESOLVED_COMMITTED = "01R04";

    /** Every SQLState of the contract. */
    static final java.util.List<String> ALL =
            java.util.List.of(NOT_RUN, OUTCOME_UNKNOWN, TRANSACTION_LOST, NO_PRIMARY, SESSION_LOST, NOT_COMMITTED);

    private FailoverSqlStates() {}

    static SQLTransientConnectionException notRun(String message, Throwable cause) {
        return new SQLTransientConnectionException(
                message + "; the statement did not run and is safe to retry", NOT_RUN, cause);
    }

    static SQLRecoverableException outcomeUnknown(String message, Throwable cause) {
        return new SQLRecoverableException(
                message + "; it may or may not have committed: check before retrying", OUTCOME_UNKNOWN, cause);
    }

    static SQLTransientConnectionException notCommitted(String message, Throwable cause) {
        return new SQLTransientConnectionException(
                message + "; it did not commit on the primary serving now: safe to retry", NOT_COMMITTED, cause);
    }

    static SQLWarning resolvedCommitted(String message) {
        return new SQLWarning(message + "; it did commit on the primary serving now", RESOLVED_COMMITTED);
    }

    static SQLTransactionRollbackException transactionLost(String message, Throwable cause) {
        return new SQLTransactionRollbackException(
                message + "; the transaction was rolled back: call rollback() and retry the whole transaction",
                TRANSACTION_LOST,
                cause);
    }

    static SQLTransientConnectionException noPrimary(String message, Throwable cause) {
        return new SQLTransientConnectionException(message, NO_PRIMARY, cause);
    }

    static SQLNonTransientConnectionException sessionLost(String message, Throwable cause) {
        return new SQLNonTransientConnectionException(
                message + "; close this connection and open a new one", SESSION_LOST, cause);
    }

    /** True for one of the contract's own SQLStates. */
    static boolean isContract(SQLException e) {
        String s = e.getSQLState();
        return NOT_RUN.equals(s)
                || OUTCOME_UNKNOWN.equals(s)
                || TRANSACTION_LOST.equals(s)
                || NO_PRIMARY.equals(s)
                || SESSION_LOST.equals(s)
                || NOT_COMMITTED.equals(s);
    }
}
