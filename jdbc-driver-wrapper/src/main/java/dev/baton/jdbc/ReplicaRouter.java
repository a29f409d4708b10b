package dev.baton.jdbc;

import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica side of a read-only {@link FailoverDataSource}: watches the node states the orchestrator publishes at
 * {@code /clusters/<c>/nodes/<n>}, keeps one HikariCP pool per replica that qualifies ({@link ReadRouting}), and lends
 * from them in turn or by least lag. A replica that stops qualifying (lagging, unreachable, promoted, stale) has its
 * pool retired: connections on it move at their next statement between transactions, and the pool is closed once
 * they have. Empty-handed when none qualifies: the data source then lends from the primary.
 */
final class ReplicaRouter implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaRouter.class);
    /** Replica pools carry this epoch: no switchover hold (which is about the primary) applies to them. */
    static final long REPLICA_EPOCH = Long.MAX_VALUE - 1;

    private static final long RETIRED_POOL_GRACE_MS = 30_000;
    private static final int FRESH_POOL_SLICES = 20;
    private static final long INITIAL_LOAD_MS = 1000;

    private final FailoverConfig config;
    private final ReadRouting routing;
    private final Function<PrimaryRecord, PrimaryPool> poolFactory;
    private final Supplier<Optional<PrimaryRecord>> primary;
    private final Clock clock;
    private final CuratorCache cache;
    private final Map<String, PrimaryPool> pools = new ConcurrentHashMap<>();
    private final Map<String, NodeState> states = new ConcurrentHashMap<>();
    private final AtomicInteger turn = new AtomicInteger();
    private final ExecutorService closer;
    /** Counted down once the node states present at the start have been read. */
    private final CountDownLatch loaded = new CountDownLatch(1);

    private volatile boolean closed;

    ReplicaRouter(
            FailoverConfig config,
            CuratorFramework client,
            Function<PrimaryRecord, PrimaryPool> poolFactory,
            Supplier<Optional<PrimaryRecord>> primary,
            Clock clock) {
        this.config = config;
        this.routing = config.readRouting();
        this.poolFactory = poolFactory;
        this.primary = primary;
        this.clock = clock;
        this.closer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "baton-" + config.cluster() + "-replica-retire");
            t.setDaemon(true);
            return t;
        });
        String nodes = RegistryPaths.nodes(config.cluster());
        this.cache = CuratorCache.build(client, nodes);
        cache.listenable()
                .addListener(CuratorCacheListener.builder()
                        .forCreatesAndChanges((before, after) -> onState(nodes, after))
                        .forDeletes(gone -> onDeleted(nodes, gone))
                        .forInitialized(loaded::countDown)
                        .build());
        cache.start();
    }

    private void onState(String nodesPath, ChildData data) {
        if (!data.getPath().startsWith(nodesPath + "/") || data.getData() == null || data.getData().length == 0) {
            return;
        }
        try {
            NodeState state = RegistryJson.read(data.getData(), NodeState.class);
            states.put(state.nodeId(), state);
        } catch (RuntimeException e) {
            LOG.warn("cluster {}: ignoring an unreadable node state at {}", config.cluster(), data.getPath(), e);
            return;
        }
        retireUnqualified();
    }

    private void onDeleted(String nodesPath, ChildData data) {
        if (data.getPath().startsWith(nodesPath + "/")) {
            states.remove(data.getPath().substring(nodesPath.length() + 1));
            retireUnqualified();
        }
    }

    /**
     * A physical connection to a qualifying replica, or null when none qualifies (or none can lend one now: each
     * replica is tried once, for one borrow slice).
     */
    FailoverDataSource.Lent lend() {
        awaitInitialStates();
        Optional<PrimaryRecord> current = primary.get();
        if (closed || current.isEmpty()) {
            return null;
        }
        List<NodeState> eligible =
                routing.eligible(states.values(), current.get().nodeId(), clock.instant());
        if (eligible.isEmpty()) {
            retireUnqualified();
            return null;
        }
        int first = routing.balance() == ReplicaBalance.ROUND_ROBIN
                ? Math.floorMod(turn.getAndIncrement(), eligible.size())
                : 0;
        for (int i = 0; i < eligible.size(); i++) {
            NodeState replica = eligible.get((first + i) % eligible.size());
            boolean[] fresh = {false};
            PrimaryPool pool = pools.computeIfAbsent(replica.nodeId(), id -> {
                fresh[0] = true;
                return poolFactory.apply(record(current.get(), replica));
            });
            if (!pool.record().host().equals(replica.host()) || pool.record().port() != replica.port()) {
                retire(pool, "it moved to " + replica.host() + ":" + replica.port());
                continue;
            }
            // a new pool is given time for its first connection; an established one one borrow slice
            for (int slice = 0; slice < (fresh[0] ? FRESH_POOL_SLICES : 1); slice++) {
                try {
                    Connection c = pool.borrow();
                    if (pool.isRetired()) {
                        c.close();
                        break;
                    }
                    return new FailoverDataSource.Lent(c, pool);
                } catch (SQLException e) {
                    LOG.debug(
                            "cluster {}: no connection to replica {}: {}",
                            config.cluster(),
                            replica.nodeId(),
                            e.getMessage());
                }
            }
        }
        return null;
    }

    /** The first borrows wait (up to 1 s) for the node states already published, instead of falling back at once. */
    private void awaitInitialStates() {
        if (loaded.getCount() == 0) {
            return;
        }
        try {
            if (!loaded.await(INITIAL_LOAD_MS, TimeUnit.MILLISECONDS)) {
                LOG.debug("cluster {}: node states not read within {} ms", config.cluster(), INITIAL_LOAD_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private PrimaryRecord record(PrimaryRecord primaryRecord, NodeState replica) {
        return new PrimaryRecord(
                config.cluster(),
                replica.nodeId(),
                replica.host(),
                replica.port(),
                primaryRecord.dialect(),
                REPLICA_EPOCH,
                clock.instant());
    }

    /** Retires the pool of every replica that does not qualify any more. */
    private void retireUnqualified() {
        Optional<PrimaryRecord> current = primary.get();
        for (PrimaryPool pool : pools.values()) {
            NodeState state = states.get(pool.record().nodeId());
            String primaryId = current.map(PrimaryRecord::nodeId).orElse("");
            if (state == null || !routing.qualifies(state, primaryId, clock.instant())) {
                retire(pool, state == null ? "its node state is gone" : describe(state));
            }
        }
    }

    private void retire(PrimaryPool pool, String why) {
        if (!pools.remove(pool.record().nodeId(), pool)) {
            return;
        }
        pool.retire(pool.record());
        LOG.info(
                "cluster {}: replica {} no longer used for reads: {}",
                config.cluster(),
                pool.record().nodeId(),
                why);
        closer.execute(() -> {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETIRED_POOL_GRACE_MS);
            while (pool.poolBean() != null
                    && pool.poolBean().getActiveConnections() > 0
                    && System.nanoTime() < deadline
                    && !closed) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            pool.close();
        });
    }

    private static String describe(NodeState s) {
        return "reachable=" + s.reachable() + ", role=" + s.role() + ", streaming=" + s.streaming() + ", lagBytes="
                + s.lagBytes() + ", lagSeconds=" + s.lagSeconds() + ", lastSeen=" + s.lastSeen();
    }

    @Override
    public void close() {
        closed = true;
        cache.close();
        for (PrimaryPool pool : pools.values()) {
            pools.remove(pool.record().nodeId());
            closer.execute(pool::close);
        }
        closer.shutdown();
        try {
            if (!closer.awaitTermination(15, TimeUnit.SECONDS)) {
                closer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
