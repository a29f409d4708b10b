package dev.baton.jdbc;

import dev.baton.registry.ClientRegistration;
import dev.baton.registry.EpochNode;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.registry.ZooKeeperLease;
import java.io.Closeable;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The ZooKeeper edge of a {@link FailoverDataSource}: owns its Curator client and watches the cluster's
 * primary record and switchover hold node. Reports what it reads; deciding what to do with it (epochs, pools)
 * is the data source's job. When ZooKeeper is unreachable nothing is reported, so the last known state stays.
 *
 * <p>A new primary normally arrives with no read at all: the orchestrator creates an {@link EpochNode}, whose name
 * carries the record, in the same transaction as the record's write, and a persistent recursive watch on the epochs
 * node delivers that name in the creation event. The record's own change event, which follows with the same zxid,
 * is then skipped. The record is read when it changes without an epoch node (another writer, a server too old to
 * send zxids), on every (re)connection, and by the lease pings.
 */
final class PrimaryWatch implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryWatch.class);

    /** Called on Curator / ZooKeeper event threads. */
    interface Events {
        void primary(PrimaryRecord record);

        /** The hold node appeared or changed ({@code hold} null: unreadable) or, with {@code present} false, went. */
        void hold(boolean present, HoldRecord hold);

        /**
         * The orchestrator cannot confirm that the primary of {@code hold.epoch()} is gone and is about to replace it
         * (a hold of kind unconfirmed-primary): what was lent to it must stop now, and nothing more may be lent there
         * until the hold is released or a newer primary arrives. Once that is so, call {@link #acknowledge}.
         */
        void unconfirmedPrimary(HoldRecord hold);

        /** The lease ran out ({@code false}) or was renewed after running out ({@code true}). */
        void lease(boolean valid);
    }

    private final FailoverConfig config;
    private final Events events;

    private static final long WATCH_RETRY_MS = 200;

    private final CuratorFramework client;
    /** Set on the raw ZooKeeper handle: Curator's namespace wrapper would drop the events' zxids. */
    private final Watcher recordEvents = this::onRecordEvent;
    /** The zxid of the transaction whose epoch node delivered the newest record, -1 before any. */
    private volatile long deliveredZxid = -1;

    private final CuratorCache holdCache;
    private final ZooKeeperLease lease;
    /** The periodic ping on the shared timer (lease on only), cancelled on close. */
    private volatile Future<?> pings;
    /** A new attempt to set the record watches and read the record is scheduled; at most one is. */
    private final AtomicBoolean watchRetryArmed = new AtomicBoolean();
    /** A lease expiry check is scheduled; at most one is. */
    private final AtomicBoolean expiryCheckArmed = new AtomicBoolean();

    private volatile boolean expiredReported;
    private volatile boolean closed;

    /** This data source's registration, {@link RegistryPaths#client}: the orchestrator waits for its acknowledgements. */
    private final String clientId;
    /** The ZooKeeper session the registration exists on, 0 while there is none: without it the lease is not renewed. */
    private volatile long registeredSession;

    private volatile boolean registrationRefusedSaid;
    /** The hold last handed on (its id and kind), so that the cache and the pings hand each hold on once. */
    private volatile String handedOnHold;
    /**
     * The modification zxid of the primary record last handed on, read or carried by its epoch node: a read that
     * finds it unchanged does not parse it again.
     */
    private volatile long handedOnZxid = -1;
    /** Whether the shortened lease of a short session was logged (once per data source). */
    private volatile boolean warnedShortSession;

    /** Starts the client, the hold cache and the record watches; the first events may arrive before this returns. */
    PrimaryWatch(FailoverConfig config, Events events) {
        this.config = config;
        this.events = events;
        this.lease = new ZooKeeperLease(config.leaseTimeout(), System::nanoTime);
        this.clientId =
                ClientRegistration.newId(hostName(), ProcessHandle.current().pid());
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
            holdCache = CuratorCache.build(
                    client, RegistryPaths.hold(config.cluster()), CuratorCache.Options.SINGLE_NODE_CACHE);
            holdCache
                    .listenable()
                    .addListener(CuratorCacheListener.builder()
                            .forCreatesAndChanges((before, node) -> withMdc(() -> onHold(node.getData())))
                            .forDeletes(node -> onHoldReleased())
                            .build());
            holdCache.start();
            if (client.getZookeeperClient().isConnected()) {
                // connected before the listener was added; a second call on CONNECTED is harmless
                register();
                watchRecord();
            }
            if (config.lease()) {
                // Without the lease nothing needs renewing: the watches bring every change.
                pings = SharedThreads.TIMER.schedule(this::pingAndRepeat, 0, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            closed = true;
            client.close(); // the cache and watches run on the client's threads: closing it stops them
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
     * Adds the two persistent watches on the current ZooKeeper handle, then reads the record: run on every
     * (re)connection, since a watch does not replay the changes made while the client was away, and a new session
     * (after an expiry) has a new handle without them. Requests of one session are answered in order, so the read
     * sees every change made before the watches were in place. Adding a watch twice is harmless. If any of the three
     * requests fails while connected (Curator hands a connection loss it noted earlier to the next caller), all
     * three are sent again shortly; while disconnected, the next connection sends them.
     */
    private void watchRecord() {
        if (closed) {
            return;
        }
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            AsyncCallback.VoidCallback set = (rc, path, ctx) -> {
                if (rc != KeeperException.Code.OK.intValue()) {
                    watchAgainSoon(path + ": " + KeeperException.Code.get(rc));
                }
            };
            zk.addWatch(config.epochsPath(), recordEvents, AddWatchMode.PERSISTENT_RECURSIVE, set, null);
            zk.addWatch(config.primaryPath(), recordEvents, AddWatchMode.PERSISTENT, set, null);
        } catch (Exception e) {
            watchAgainSoon(e.toString());
            return;
        }
        readRecord(this::watchAgainSoon);
    }

    private void watchAgainSoon(String why) {
        LOG.debug("cluster {}: watching the primary record again shortly: {}", config.cluster(), why);
        if (closed || !isConnected() || !watchRetryArmed.compareAndSet(false, true)) {
            return;
        }
        try {
            SharedThreads.TIMER.schedule(
                    () -> {
                        watchRetryArmed.set(false);
                        watchRecord();
                    },
                    WATCH_RETRY_MS,
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            watchRetryArmed.set(false);
        }
    }

    /**
     * The lease ping, a linearizable round trip: {@code sync} (the server this client talks to catches up with the
     * ZooKeeper leader), then the record and the hold node, pipelined in one session so that the reads are answered
     * after the sync. The lease is renewed, from when the sync was sent, only when all three succeeded, after the
     * record and hold they returned have been handed on. A follower cut off from its leader still answers plain reads
     * for up to {@code syncLimit × tickTime} (10 s with ZooKeeper's sample configuration), but not a sync: such a
     * follower renews nothing. A failed ping is followed by the next.
     */
    /**
     * Pings, then schedules the next ping a quarter of the lease in force later: the lease may have been shortened to
     * fit a short session ({@link ZooKeeperLease#fitSession}).
     */
    private void pingAndRepeat() {
        if (closed) {
            return;
        }
        try {
            ping();
        } finally {
            if (!closed) {
                long pingMs = Math.max(50, lease.timeout().toMillis() / 4);
                pings = SharedThreads.TIMER.schedule(this::pingAndRepeat, pingMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    private void ping() {
        if (closed) {
            return;
        }
        long sent = System.nanoTime();
        Consumer<String> failed = why -> LOG.debug("cluster {}: lease ping failed: {}", config.cluster(), why);
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            boolean[] synced = {false};
            boolean[] recordRead = {false};
            zk.sync(
                    config.primaryPath(),
                    (rc, path, ctx) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            synced[0] = true;
                        } else {
                            failed.accept("sync: " + KeeperException.Code.get(rc));
                        }
                    },
                    null);
            zk.getData(
                    config.primaryPath(),
                    false,
                    (rc, path, ctx, data, stat) -> withMdc(() -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            handOn(data, stat.getMzxid());
                            recordRead[0] = true;
                        } else if (rc == KeeperException.Code.NONODE.intValue()) {
                            recordRead[0] = true;
                        } else {
                            failed.accept("reading " + path + ": " + KeeperException.Code.get(rc));
                        }
                    }),
                    null);
            zk.getData(
                    config.holdPath(),
                    false,
                    (rc, path, ctx, data, stat) -> withMdc(() -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            onHold(data);
                        } else if (rc != KeeperException.Code.NONODE.intValue()) {
                            failed.accept("reading " + path + ": " + KeeperException.Code.get(rc));
                            return;
                        }
                        if (synced[0] && recordRead[0]) {
                            contact(sent, session);
                        }
                    }),
                    null);
        } catch (Exception e) {
            failed.accept(e.toString());
        }
    }

    /**
     * Reads the primary record straight from the ZooKeeper handle (no Curator retry: a request fails at once while
     * disconnected), and calls {@code failed} with the reason if it could not. A plain read renews no lease (only
     * {@link #ping()} does). A record already handed on (same modification zxid) is not parsed again.
     */
    private void readRecord(Consumer<String> failed) {
        if (closed) {
            return;
        }
        try {
            client.getZookeeperClient()
                    .getZooKeeper()
                    .getData(
                            config.primaryPath(),
                            false,
                            (rc, path, ctx, data, stat) -> withMdc(() -> {
                                if (rc == KeeperException.Code.OK.intValue()) {
                                    handOn(data, stat.getMzxid());
                                } else if (rc != KeeperException.Code.NONODE.intValue()) {
                                    failed.accept("reading " + path + ": " + KeeperException.Code.get(rc));
                                }
                            }),
                            null);
        } catch (Exception e) {
            failed.accept(e.toString());
        }
    }

    /**
     * An event of the record watches, on the ZooKeeper event thread. An epoch node's creation hands on the record
     * its name carries; a change of the record itself is read, unless an epoch node of the same transaction (same
     * zxid) delivered it already.
     */
    private void onRecordEvent(WatchedEvent event) {
        String path = event.getPath();
        if (closed || path == null) {
            return;
        }
        withMdc(() -> {
            String epochs = config.epochsPath();
            if (path.length() > epochs.length() + 1 && path.startsWith(epochs) && path.charAt(epochs.length()) == '/') {
                if (event.getType() == Watcher.Event.EventType.NodeCreated) {
                    fromEpochNode(path.substring(epochs.length() + 1), event.getZxid());
                }
            } else if (path.equals(config.primaryPath())) {
                if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                    LOG.warn(
                            "cluster {}: primary record {} was deleted; keeping the last known primary",
                            config.cluster(),
                            config.primaryPath());
                } else if (event.getZxid() == WatchedEvent.NO_ZXID || event.getZxid() != deliveredZxid) {
                    readRecord(this::watchAgainSoon); // no later event asks again if this read fails
                }
            }
        });
    }

    private void fromEpochNode(String name, long zxid) {
        if (name.indexOf('/') >= 0 || EpochNode.epoch(name) < 0) {
            return; // not an epoch node
        }
        PrimaryRecord record;
        try {
            record = EpochNode.parse(name);
        } catch (IllegalArgumentException e) {
            LOG.warn("cluster {}: ignoring an unreadable epoch node: {}", config.cluster(), e.getMessage());
            return;
        }
        if (zxid != WatchedEvent.NO_ZXID) {
            deliveredZxid = zxid;
            handedOnZxid = zxid; // the record's own modification zxid: a ping that reads it need not parse it
        }
        events.primary(record);
    }

    /** Hands on the record read, unless the same version (modification zxid) was handed on already. */
    private void handOn(byte[] data, long mzxid) {
        if (mzxid != handedOnZxid) {
            read(data);
            handedOnZxid = mzxid;
        }
    }

    /**
     * A ping sent at {@code sentNanos} on {@code session} succeeded. The lease is renewed only while this data
     * source is registered on that session: otherwise the orchestrator would not know to wait for it.
     */
    private void contact(long sentNanos, long session) {
        if (!config.lease()) {
            return; // nothing to renew, and no expiry to check
        }
        if (session == 0 || registeredSession != session) {
            register();
            return;
        }
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
        client.close(); // the record watches end with the session
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
     * The hold node and the primary record are watched separately, and a record without an epoch node needs a round
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

    /**
     * The hold node's data, from the cache or a ping: reported, and a hold of kind unconfirmed-primary handed on once
     * per hold. Runs on the ZooKeeper event thread, so a ping's renewal follows only after the hold is in force in
     * the data source (nothing more is lent to the held primary); its aborts and acknowledgement follow on a worker.
     */
    private void onHold(byte[] data) {
        HoldRecord hold = readHold(data);
        String key = hold == null ? "unreadable" : hold.operationId() + "/" + hold.kind();
        if (key.equals(handedOnHold)) {
            return;
        }
        handedOnHold = key;
        events.hold(true, hold);
        if (hold != null && HoldRecord.UNCONFIRMED_PRIMARY.equals(hold.kind())) {
            events.unconfirmedPrimary(hold);
        }
    }

    /**
     * Tells the orchestrator that this data source lends nothing more to the primary {@code hold} names, and has
     * aborted what it had lent there: an ephemeral node of this session under the hold's acknowledgements. A hold
     * of an orchestrator that does not collect acknowledgements has no such parent: nothing to write.
     */
    void acknowledge(HoldRecord hold) {
        if (closed || hold.operationId() == null || !RegistryPaths.isValidName(hold.operationId())) {
            return;
        }
        try {
            client.getZookeeperClient()
                    .getZooKeeper()
                    .create(
                            config.ackPath(hold.operationId(), clientId),
                            new byte[0],
                            ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.EPHEMERAL,
                            (rc, path, ctx, name) -> {
                                if (rc == KeeperException.Code.OK.intValue()
                                        || rc == KeeperException.Code.NODEEXISTS.intValue()) {
                                    LOG.info(
                                            "cluster {}: acknowledged the hold on {}",
                                            config.cluster(),
                                            hold.fromNode());
                                } else {
                                    LOG.warn(
                                            "cluster {}: could not acknowledge the hold on {} ({}): the orchestrator"
                                                    + " waits out this data source's lease instead",
                                            config.cluster(),
                                            hold.fromNode(),
                                            KeeperException.Code.get(rc));
                                }
                            },
                            null);
        } catch (Exception e) {
            LOG.warn("cluster {}: could not acknowledge the hold: {}", config.cluster(), e.toString());
        }
    }

    /**
     * Registers this data source under the cluster's clients node, an ephemeral node of the current session, once per
     * session: the orchestrator then waits for this data source's acknowledgement (or its lease) before it replaces
     * a primary that is not proven gone. The parent is the orchestrator's; it is created here only where the
     * namespace's ACLs allow it.
     */
    private void register() {
        if (closed) {
            return;
        }
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            if (session == 0 || registeredSession == session) {
                return;
            }
            Duration leaseTimeout =
                    lease.fitSession(zk.getSessionTimeout(), FailoverConfig.ZK_SESSION_TIMEOUT.toMillis());
            if (leaseTimeout.compareTo(config.leaseTimeout()) < 0 && !warnedShortSession) {
                warnedShortSession = true;
                LOG.warn(
                        "cluster {}: ZooKeeper granted a session of {} ms, less than the {} ms asked for (the server's"
                                + " maxSessionTimeout?): the lease is {} ms instead of leaseTimeout {} ms, so that it"
                                + " always runs out before the session and its registration expire",
                        config.cluster(),
                        zk.getSessionTimeout(),
                        FailoverConfig.ZK_SESSION_TIMEOUT.toMillis(),
                        leaseTimeout.toMillis(),
                        config.leaseTimeout().toMillis());
            }
            byte[] data = RegistryJson.write(new ClientRegistration(
                    clientId,
                    hostName(),
                    ProcessHandle.current().pid(),
                    config.lease(),
                    leaseTimeout.toMillis(),
                    java.time.Instant.now()));
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.EPHEMERAL)
                    .inBackground((c, event) -> withMdc(() -> registered(event.getResultCode(), session)))
                    .forPath(RegistryPaths.client(config.cluster(), clientId), data);
        } catch (Exception e) {
            LOG.debug("cluster {}: registering failed: {}", config.cluster(), e.toString());
        }
    }

    private void registered(int rc, long session) {
        if (rc == KeeperException.Code.OK.intValue()) {
            registeredSession = session;
            LOG.debug("cluster {}: registered as {}", config.cluster(), config.clientPath(clientId));
        } else if (rc == KeeperException.Code.NODEEXISTS.intValue()) {
            // Ours only if it belongs to this session: a node of an older session that has not expired yet goes
            // with it, and the lease must not count on it.
            try {
                client.checkExists()
                        .inBackground((c, event) -> withMdc(() -> {
                            if (event.getStat() != null && event.getStat().getEphemeralOwner() == session) {
                                registeredSession = session;
                            }
                        }))
                        .forPath(RegistryPaths.client(config.cluster(), clientId));
            } catch (Exception e) {
                LOG.debug("cluster {}: checking the registration failed: {}", config.cluster(), e.toString());
            }
        } else {
            refused(KeeperException.Code.get(rc)
                    + (rc == KeeperException.Code.NOAUTH.intValue()
                            ? ": the namespace's ACLs do not let this client create " + config.clientsPath()
                                    + "; run `baton zk init` or start the orchestrator, which creates it"
                            : ""));
        }
    }

    private void refused(String why) {
        if (!registrationRefusedSaid) {
            registrationRefusedSaid = true;
            LOG.error(
                    "cluster {}: cannot register at {}: {}; the lease is not renewed until it can (retried at every"
                            + " ping)",
                    config.cluster(),
                    config.clientPath(clientId),
                    why);
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "host";
        }
    }

    private void onHoldReleased() {
        String released = handedOnHold;
        try {
            client.getData()
                    .inBackground((c, event) -> withMdc(() -> {
                        if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                            read(event.getData());
                        }
                        if (!java.util.Objects.equals(handedOnHold, released)) {
                            return; // a newer hold was handed on meanwhile (a ping's read): it stays in force
                        }
                        handedOnHold = null;
                        events.hold(false, null);
                    }))
                    .forPath(RegistryPaths.primary(config.cluster()));
        } catch (Exception e) {
            withMdc(() -> {
                handedOnHold = null;
                events.hold(false, null);
            });
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
                if (newState.isConnected()) {
                    register();
                    watchRecord();
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
