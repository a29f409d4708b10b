package dev.baton.jdbc;

import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The ZooKeeper edge of a {@link FailoverDataSource}: owns its Curator client and watches the cluster's
 * primary record and switchover hold node. Reports what it reads; deciding what to do with it (epochs, pools)
 * is the data source's job. When ZooKeeper is unreachable nothing is reported, so the last known state stays.
 */
final class PrimaryWatch implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryWatch.class);

    /** Called on Curator / ZooKeeper event threads. */
    interface Events {
        void primary(PrimaryRecord record);

        void hold(boolean present);

        /**
         * The orchestrator cannot confirm the primary of {@code epoch} is gone and is about to replace it (a hold of
         * kind unconfirmed-primary): what was lent to it must stop now.
         */
        void unconfirmedPrimary(long epoch);

        /** The lease ran out ({@code false}) or was renewed after running out ({@code true}). */
        void lease(boolean valid);
    }

    private final FailoverConfig config;
    private final Events events;

    private final CuratorFramework client;
    private final CuratorCache primaryCache;
    private final CuratorCache holdCache;
    private final ZooKeeperLease lease;
    /** The periodic ping on the shared timer (lease on only), cancelled on close. */
    private volatile Future<?> pings;
    /** A lease expiry check is scheduled; at most one is. */
    private final AtomicBoolean expiryCheckArmed = new AtomicBoolean();

    private volatile boolean expiredReported;
    private volatile boolean closed;
    /** The modification zxid of the primary record the last ping read: an unchanged record is not parsed again. */
    private volatile long pingedZxid = -1;

    /** Starts the client and both caches; the first events may arrive before this returns. */
    PrimaryWatch(FailoverConfig config, Events events) {
        this.config = config;
        this.events = events;
        this.lease = new ZooKeeperLease(config.leaseTimeout(), System::nanoTime);
        // Curator's cache notifications run on the ZooKeeper event thread, as the pings' answers do: accepting a record
        // takes microseconds and never waits on a server. Curator would otherwise start a notification thread of its
        // own per client (one more thread hop per change), and leave it running after close.
        this.client = RegistryClient.start(
                config.zookeeper(),
                config.namespace(),
                FailoverConfig.ZK_SESSION_TIMEOUT,
                FailoverConfig.ZK_CONNECTION_TIMEOUT,
                null,
                new org.apache.curator.retry.ExponentialBackoffRetry(100, 5, 1000),
                java.util.Map.of(),
                Runnable::run);
        try {
            client.getConnectionStateListenable().addListener(this::onConnectionState);
            primaryCache = CuratorCache.build(
                    client, RegistryPaths.primary(config.cluster()), CuratorCache.Options.SINGLE_NODE_CACHE);
            primaryCache
                    .listenable()
                    .addListener(CuratorCacheListener.builder()
                            .forCreatesAndChanges((before, after) -> withMdc(() -> read(after.getData())))
                            .forDeletes(gone -> withMdc(() -> LOG.warn(
                                    "cluster {}: primary record {} was deleted; keeping the last known primary",
                                    config.cluster(),
                                    config.primaryPath())))
                            .build());
            holdCache = CuratorCache.build(
                    client, RegistryPaths.hold(config.cluster()), CuratorCache.Options.SINGLE_NODE_CACHE);
            holdCache
                    .listenable()
                    .addListener(CuratorCacheListener.builder()
                            .forCreatesAndChanges((before, node) -> withMdc(() -> {
                                events.hold(true);
                                HoldRecord hold = readHold(node.getData());
                                if (hold != null && HoldRecord.UNCONFIRMED_PRIMARY.equals(hold.kind())) {
                                    events.unconfirmedPrimary(hold.epoch());
                                }
                            }))
                            .forDeletes(node -> onHoldReleased())
                            .build());
            holdCache.start();
            primaryCache.start();
            if (config.lease()) {
                // Without the lease nothing needs renewing: the caches' watches bring every change.
                long pingMs = Math.max(50, config.leaseTimeout().toMillis() / 4);
                pings = SharedThreads.TIMER.scheduleWithFixedDelay(this::ping, 0, pingMs, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            closed = true;
            client.close(); // the caches run on the client's threads and watches: closing it stops them
            throw e;
        }
        LOG.info("cluster {}: watching {} on ZooKeeper {}", config.cluster(), config.primaryPath(), config.zookeeper());
    }

    /** The Curator client, for the replica router's node-state cache. */
    CuratorFramework client() {
        return client;
    }

    boolean isConnected() {
        return client.getZookeeperClient().isConnected();
    }

    ZooKeeperLease lease() {
        return lease;
    }

    /**
     * Reads the primary record straight from the ZooKeeper handle (no Curator retry: a request fails at once while
     * disconnected). An answer renews the lease from the moment the request was sent, after the record it returned
     * has been handed on, so that a renewed lease never points to a superseded primary. A record the previous ping
     * already read (same modification zxid) is not parsed again: the cache's watch handed it on when it changed.
     */
    private void ping() {
        if (closed) {
            return;
        }
        long sent = System.nanoTime();
        try {
            client.getZookeeperClient()
                    .getZooKeeper()
                    .getData(
                            config.primaryPath(),
                            false,
                            (rc, path, ctx, data, stat) -> withMdc(() -> {
                                if (rc == KeeperException.Code.OK.intValue()) {
                                    if (stat.getMzxid() != pingedZxid) {
                                        read(data);
                                        pingedZxid = stat.getMzxid();
                                    }
                                    contact(sent);
                                } else if (rc == KeeperException.Code.NONODE.intValue()) {
                                    contact(sent);
                                }
                            }),
                            null);
        } catch (Exception e) {
            LOG.debug("cluster {}: lease ping not sent: {}", config.cluster(), e.toString());
        }
    }

    private void contact(long sentNanos) {
        lease.contact(sentNanos);
        if (expiredReported && lease.valid()) {
            expiredReported = false;
            events.lease(true);
        }
        armExpiryCheck();
    }

    /**
     * Schedules one check for the moment the lease would run out, unless one is pending: a data source wakes up
     * when its lease can have expired, not on a polling period.
     */
    private void armExpiryCheck() {
        if (closed || !expiryCheckArmed.compareAndSet(false, true)) {
            return;
        }
        try {
            SharedThreads.TIMER.schedule(
                    this::checkLease, Math.max(0, lease.remainingNanos()) + 1, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            expiryCheckArmed.set(false);
        }
    }

    /** The lease's expiry time was reached: report it if no ping renewed it since, else wait for the new expiry. */
    private void checkLease() {
        expiryCheckArmed.set(false);
        if (closed) {
            return;
        }
        try {
            if (lease.valid()) {
                armExpiryCheck();
            } else if (!expiredReported) {
                expiredReported = true;
                withMdc(() -> events.lease(false));
            }
        } catch (RuntimeException e) {
            LOG.warn("cluster {}: lease check failed", config.cluster(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (pings != null) {
            pings.cancel(false);
        }
        holdCache.close();
        primaryCache.close();
        client.close();
    }

    private void read(byte[] json) {
        parse(json).ifPresent(events::primary);
    }

    private Optional<PrimaryRecord> parse(byte[] json) {
        try {
            return Optional.of(RegistryJson.read(json, PrimaryRecord.class));
        } catch (RuntimeException e) {
            LOG.warn(
                    "cluster {}: ignoring unreadable primary record at {}: {}",
                    config.cluster(),
                    config.primaryPath(),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The hold node and the primary record are watched separately, and the primary cache needs one more round
     * trip to fetch new data, so a release can be seen before the record a switchover wrote just before it.
     * Re-read the record first (same session, so it reflects every write made before the delete), then report
     * the release.
     */
    private HoldRecord readHold(byte[] data) {
        try {
            return RegistryJson.read(data, HoldRecord.class);
        } catch (IllegalArgumentException e) {
            LOG.warn(
                    "cluster {}: {} is {}; taken as a switchover hold",
                    config.cluster(),
                    config.holdPath(),
                    e.getMessage());
            return null;
        }
    }

    private void onHoldReleased() {
        try {
            client.getData()
                    .inBackground((c, event) -> withMdc(() -> {
                        if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                            read(event.getData());
                        }
                        events.hold(false);
                    }))
                    .forPath(RegistryPaths.primary(config.cluster()));
        } catch (Exception e) {
            withMdc(() -> events.hold(false));
        }
    }

    private void onConnectionState(CuratorFramework c, ConnectionState newState) {
        withMdc(() -> {
            if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
                LOG.warn(
                        "cluster {}: ZooKeeper {} is {}; keeping the last known primary"
                                + (config.lease() ? " until the lease runs out" : ""),
                        config.cluster(),
                        config.zookeeper(),
                        newState);
            } else {
                LOG.info("cluster {}: ZooKeeper {} is {}", config.cluster(), config.zookeeper(), newState);
                if (newState.isConnected() && config.lease()) {
                    SharedThreads.TIMER.execute(this::ping);
                }
            }
        });
    }

    private void withMdc(Runnable action) {
        try (MDC.MDCCloseable ignored = MDC.putCloseable("cluster", config.cluster())) {
            action.run();
        }
    }
}
