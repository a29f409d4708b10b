package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.sql.SQLException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reports a {@link FailoverDataSource} to a Micrometer registry: Baton's own meters ({@code baton.wrapper.*}, tag
 * {@code cluster}) and HikariCP's pool meters ({@code hikaricp.*}) under one pool name, {@code baton-<cluster>},
 * that does not change with the epoch.
 *
 * <p>HikariCP's {@link MicrometerMetricsTrackerFactory} registers its meters once per pool and removes them when the
 * pool closes. Baton creates a pool per epoch and closes the old one after the new one exists, so handing HikariCP
 * the factory directly would either rename the series every epoch or, under one name, have the old pool's close
 * remove the meters the new pool shares. Here HikariCP's tracker is created once, over {@link CurrentPoolStats}
 * (the gauges read the newest pool), and every epoch's pool records its timings into it; it is closed with the data
 * source.
 */
final class MicrometerMetrics implements WrapperMetrics, MetricsTrackerFactory {
    static final String PREFIX = "baton.wrapper.";

    private final MeterRegistry registry;
    private final String poolName;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final AtomicLong epoch = new AtomicLong();
    private final Counter epochChanges;
    private final Map<MoveReason, Counter> moves = new EnumMap<>(MoveReason.class);
    private final Timer held;
    private final Counter staleBorrows;
    private final Counter leaseExpiries;
    private final Counter idempotentRetries;
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final CurrentPoolStats poolStats = new CurrentPoolStats();
    private IMetricsTracker poolTracker;

    private MicrometerMetrics(MeterRegistry registry, String cluster) {
        this.registry = registry;
        this.poolName = "baton-" + cluster;
        this.tags = Tags.of("cluster", cluster);
        meters.add(Gauge.builder(PREFIX + "epoch", epoch, AtomicLong::get)
                .description("epoch of the primary new borrows go to (0 before the first record)")
                .tags(tags)
                .register(registry));
        epochChanges = add(Counter.builder(PREFIX + "epoch.changes")
                .description("newer primary records accepted after the first: failovers and switchovers seen")
                .tags(tags)
                .register(registry));
        for (MoveReason reason : MoveReason.values()) {
            moves.put(
                    reason,
                    add(Counter.builder(PREFIX + "connections.moved")
                            .description("kept connections moved to the current primary between transactions")
                            .tags(tags.and("reason", reason.tag))
                            .register(registry)));
        }
        held = add(Timer.builder(PREFIX + "hold")
                .description("borrows and kept connections' transactions that waited for a switchover hold")
                .tags(tags)
                .register(registry));
        staleBorrows = add(Counter.builder(PREFIX + "borrows.stale")
                .description("borrows that left the pool of a superseded epoch for the new primary's")
                .tags(tags)
                .register(registry));
        leaseExpiries = add(Counter.builder(PREFIX + "lease.expiries")
                .description("times the ZooKeeper lease ran out and connections were refused and aborted")
                .tags(tags)
                .register(registry));
        idempotentRetries = add(Counter.builder(PREFIX + "statements.retried")
                .description("statements marked idempotent run again after a failover's error instead of failing")
                .tags(tags)
                .register(registry));
        for (String state : FailoverSqlStates.ALL) {
            errorCounter(state); // present at 0, so that rate() and alerts see the series before the first error
        }
    }

    /** Loaded only when an application gives a registry: {@code registry} is a {@link MeterRegistry}. */
    static WrapperMetrics create(Object registry, String cluster) {
        return new MicrometerMetrics((MeterRegistry) registry, cluster);
    }

    private <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    private Counter errorCounter(String state) {
        return errors.computeIfAbsent(
                state,
                s -> add(Counter.builder(PREFIX + "errors")
                        .description("failures of the exception contract handed to the application, by SQLState")
                        .tags(tags.and("sqlstate", s))
                        .register(registry)));
    }

    @Override
    public void configurePool(HikariConfig config) {
        config.setMetricsTrackerFactory(this);
    }

    /** HikariCP calls this when it creates each epoch's pool. */
    @Override
    public synchronized IMetricsTracker create(String epochPoolName, PoolStats stats) {
        poolStats.current = stats;
        if (poolTracker == null) {
            poolTracker = new MicrometerMetricsTrackerFactory(registry).create(poolName, poolStats);
        }
        IMetricsTracker shared = poolTracker;
        return new IMetricsTracker() {
            @Override
            public void recordConnectionCreatedMillis(long millis) {
                shared.recordConnectionCreatedMillis(millis);
            }

            @Override
            public void recordConnectionAcquiredNanos(long nanos) {
                shared.recordConnectionAcquiredNanos(nanos);
            }

            @Override
            public void recordConnectionUsageMillis(long millis) {
                shared.recordConnectionUsageMillis(millis);
            }

            @Override
            public void recordConnectionTimeout() {
                shared.recordConnectionTimeout();
            }

            @Override
            public void close() {
                // an old epoch's pool closing must not remove the meters the newer pools share
            }
        };
    }

    @Override
    public void primaryAccepted(long newEpoch, boolean replaced) {
        epoch.set(newEpoch);
        if (replaced) {
            epochChanges.increment();
        }
    }

    @Override
    public void moved(MoveReason reason) {
        moves.get(reason).increment();
    }

    @Override
    public void held(long nanos) {
        held.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void staleBorrow() {
        staleBorrows.increment();
    }

    @Override
    public void leaseExpired() {
        leaseExpiries.increment();
    }

    @Override
    public void idempotentRetry() {
        idempotentRetries.increment();
    }

    @Override
    public void failed(SQLException e) {
        if (FailoverSqlStates.isContract(e)) {
            errorCounter(e.getSQLState()).increment();
        }
    }

    @Override
    public InvocationHandler countingFailures(InvocationHandler handler) {
        return (proxy, method, args) -> {
            try {
                return handler.invoke(proxy, method, args);
            } catch (SQLException e) {
                failed(e);
                throw e;
            }
        };
    }

    @Override
    public synchronized void close() {
        if (poolTracker != null) {
            poolTracker.close();
            poolTracker = null;
        }
        poolStats.current = null;
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }

    /** The statistics of the newest epoch's pool, for HikariCP's gauges (0 before the first pool). */
    private static final class CurrentPoolStats extends PoolStats {
        volatile PoolStats current;

        CurrentPoolStats() {
            super(0); // the pools' own statistics are cached for a second already
        }

        @Override
        protected void update() {
            PoolStats s = current;
            if (s == null) {
                totalConnections = idleConnections = activeConnections = pendingThreads = 0;
                return;
            }
            totalConnections = s.getTotalConnections();
            idleConnections = s.getIdleConnections();
            activeConnections = s.getActiveConnections();
            pendingThreads = s.getPendingThreads();
            maxConnections = s.getMaxConnections();
            minConnections = s.getMinConnections();
        }
    }
}
