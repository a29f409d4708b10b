package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import java.lang.reflect.InvocationHandler;
import java.sql.SQLException;

/**
 * What a {@link FailoverDataSource} reports about itself. {@link #NONE} reports nothing; {@link MicrometerMetrics}
 * reports to a Micrometer registry. This interface names no Micrometer type, so that the wrapper loads and runs
 * without Micrometer on the class path: {@link MicrometerMetrics} is loaded only when a registry is given.
 */
interface WrapperMetrics extends AutoCloseable {
    WrapperMetrics NONE = new WrapperMetrics() {};

    /** Why a kept connection moved to another physical connection (a tag value). */
    enum MoveReason {
        NEW_PRIMARY("new-primary"),
        FENCED("fenced"),
        FAILED("failed"),
        LEASE("lease");

        final String tag;

        MoveReason(String tag) {
            this.tag = tag;
        }
    }

    /** Called with the HikariConfig of every primary's pool, before the pool is created. */
    default void configurePool(HikariConfig config) {}

    /** A primary record was accepted: the first one ({@code replaced} false) or a newer epoch. */
    default void primaryAccepted(long epoch, boolean replaced) {}

    /** A kept connection moved to the current primary between transactions. */
    default void moved(MoveReason reason) {}

    /** A borrow, or a kept connection's next transaction, waited {@code nanos} for a switchover hold. */
    default void held(long nanos) {}

    /** A borrow left the pool of an epoch superseded meanwhile, for the new primary's pool. */
    default void staleBorrow() {}

    /** The ZooKeeper lease ran out: connections are refused and aborted until ZooKeeper answers. */
    default void leaseExpired() {}

    /** A statement marked idempotent ran again after a failover's error ({@link BatonStatement}). */
    default void idempotentRetry() {}

    /** A failure on its way to the application; counted when its SQLState is one of {@link FailoverSqlStates}. */
    default void failed(SQLException e) {}

    /** {@code handler}, or a handler that passes {@link #failed} every SQLException it throws. */
    default InvocationHandler countingFailures(InvocationHandler handler) {
        return handler;
    }

    /** Removes what was registered; called when the data source closes. */
    @Override
    default void close() {}
}
