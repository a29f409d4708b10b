package dev.baton.jdbc;

import java.sql.SQLException;

/**
 * What Baton adds to the statements of its connections; reach it with
 * {@code statement.unwrap(BatonStatement.class)}.
 *
 * <p>A statement marked idempotent is one the application may run twice with the same effect as once (an upsert, a
 * delete by key, a read). When it runs in autocommit and fails because of a failover or switchover with
 * {@link FailoverSqlStates#NOT_RUN 08R01} (never ran), {@link FailoverSqlStates#OUTCOME_UNKNOWN 08007} (outcome
 * unknown) or {@link FailoverSqlStates#NOT_COMMITTED 08R04} (not committed), Baton runs it once more on the primary
 * published next (waiting for it up to the pool's {@code connectionTimeout}) instead of throwing, with the same
 * parameters and batch. Statements in a transaction the application opened are never run again: the transaction
 * is lost (40R01) and only the application can run it again whole.
 *
 * <p>SQL can carry the mark itself, for code that cannot reach the statement object (JdbcTemplate, an ORM): a
 * leading comment {@value #IDEMPOTENT_HINT} before the statement's text (an {@code INSERT ... ON CONFLICT DO
 * NOTHING}, say). Whitespace inside the comment and letter case do not matter.
 */
public interface BatonStatement {
    /** The comment that marks SQL idempotent when it comes first. */
    String IDEMPOTENT_HINT = "/* baton:idempotent */";

    /** Marks this statement idempotent ({@code true}) or not; the SQL's own hint applies either way. */
    void setIdempotent(boolean idempotent) throws SQLException;

    /** True when this statement was marked idempotent with {@link #setIdempotent}. */
    boolean isIdempotent() throws SQLException;
}
