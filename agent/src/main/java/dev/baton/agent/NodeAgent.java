package dev.baton.agent;

import dev.baton.orchestrator.config.AgentConfig;
import dev.baton.registry.AgentRecord;
import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.registry.ZooKeeperLease;
import java.io.Closeable;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code baton agent}: one per database host, beside its server. It adds proof to what the orchestrator decides:
 *
 * <ul>
 *   <li><b>Death seen:</b> it looks at the server's main process every {@link #WATCH_INTERVAL}; when the process is
 *       gone it kills whatever the server left behind (PostgreSQL backends outlive a killed postmaster) and publishes
 *       {@link AgentRecord#EXITED}. The orchestrator takes that as proof and fails over at once.
 *   <li><b>A fence that binds every client:</b> with {@code fence: stop}, the agent registers with the wrappers (its
 *       lease is the one the orchestrator waits out) and kills every process of its server when the orchestrator
 *       holds it as an unconfirmed primary, or when it is the published primary and its own lease ran out: no
 *       linearizable round trip to ZooKeeper ({@code sync} then reads, timed from the sync) for {@code leaseTimeout}.
 *       It acknowledges the hold only once no process of the server remains.
 *   <li><b>A hung server stopped</b>, with {@code killHungServer: true}: a main process frozen (stopped by a signal)
 *       for {@code hungAfter} is killed and reported exited.
 * </ul>
 *
 * <p>It listens on no port. Its record and registration are ephemeral nodes of its own ZooKeeper session: an agent
 * that is gone, or cut off for longer than the session, is simply absent, and the orchestrator works as without it.
 * Server observation and fencing run on one thread; ZooKeeper writes on another, so that a slow ZooKeeper never
 * delays a fence.
 */
public final class NodeAgent implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);

    /** How often the server's main process is looked at: its exit is seen within this. */
    public static final Duration WATCH_INTERVAL = Duration.ofMillis(10);

    private static final long RETRY_MS = 200;

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AgentConfig config;
    private final LocalServer server;
    private final LongSupplier nanos;
    private final ZooKeeperLease lease;
    private final String clientId;
    private final String host;
    private final String primaryPath;
    private final String holdPath;
    private final String nodePath;
    private final ScheduledExecutorService loop;
    private final ExecutorService writer;
    /** Runs a rejoin (minutes at worst) off the loop, which meanwhile only keeps the lease pings going. */
    private final ExecutorService rejoiner;

    private final AtomicReference<AgentRecord> record;

    private CuratorFramework client;
    private CuratorCache holdCache;

    // the loop thread's
    private LocalServer.Seen last;
    private long frozenSinceNanos;
    private String ackedHold;
    private long scannedAtNanos;

    /** How often the server's processes are listed while it runs (see {@link #look()}). */
    private static final Duration SCAN_EVERY = Duration.ofSeconds(1);

    /** A rejoin runs: the loop leaves the server alone (it stops and starts it on purpose). */
    private volatile boolean rejoining;

    private long nextRejoinNanos;
    /** The epoch the last rejoin was for: a new epoch is rejoined at once, the same one after {@link #REJOIN_RETRY}. */
    private long lastRejoinEpoch = -1;

    // written by ZooKeeper callbacks, read by the loop
    private volatile NodeState mine;
    private volatile PrimaryRecord primary;
    private volatile HoldRecord hold;

    // the writer thread's (registeredSession also read by the pings' callbacks)
    private long recordSession;
    private volatile long registeredSession;

    public NodeAgent(AgentConfig config) {
        this(config, System::nanoTime);
    }

    NodeAgent(AgentConfig config, LongSupplier nanos) {
        this.config = config;
        this.server = new LocalServer(config);
        this.nanos = nanos;
        this.lease = new ZooKeeperLease(config.leaseTimeout(), nanos);
        this.host = hostName();
        this.clientId = ClientRegistration.newId(
                "agent-" + config.node(), ProcessHandle.current().pid());
        String root = "/" + config.zookeeper().namespace();
        this.primaryPath = root + RegistryPaths.primary(config.cluster());
        this.holdPath = root + RegistryPaths.hold(config.cluster());
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "baton-agent-" + config.node()));
        this.writer = Executors.newSingleThreadExecutor(r -> daemon(r, "baton-agent-" + config.node() + "-zk"));
        this.rejoiner = Executors.newSingleThreadExecutor(r -> daemon(r, "baton-agent-" + config.node() + "-rejoin"));
        this.nodePath = root + RegistryPaths.node(config.cluster(), config.node());
        this.record = new AtomicReference<>(new AgentRecord(
                config.node(),
                host,
                ProcessHandle.current().pid(),
                AgentRecord.ABSENT,
                0,
                "starting",
                config.fence().key(),
                config.registeredLease().toMillis(),
                config.killHungServer(),
                Instant.now(),
                config.rejoin() != null,
                null));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("agent of " + config.node() + " was already started");
        }
        client = RegistryClient.start(
                config.zookeeper().connect(),
                config.zookeeper().namespace(),
                config.zookeeper().sessionTimeout(),
                config.zookeeper().connectionTimeout(),
                config.zookeeper().digest(),
                new ExponentialBackoffRetry(100, 3, 1000),
                config.zookeeper().clientProperties());
        client.getConnectionStateListenable().addListener(this::onConnectionState);
        holdCache = CuratorCache.build(
                client, RegistryPaths.hold(config.cluster()), CuratorCache.Options.SINGLE_NODE_CACHE);
        holdCache
                .listenable()
                .addListener(CuratorCacheListener.builder()
                        .forCreatesAndChanges((before, node) -> onHold(node.getData()))
                        .forDeletes(node -> onHold(null))
                        .build());
        holdCache.start();
        loop.scheduleWithFixedDelay(() -> guarded(this::look), 0, WATCH_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        loop.schedule(this::pingAndRepeat, 0, TimeUnit.MILLISECONDS);
        log.info(
                "agent of {}/{}: watching {} (pid file {}), fence {}, lease {} ms, killHungServer {}",
                config.cluster(),
                config.node(),
                config.dataDirectory(),
                config.pidFile(),
                config.fence().key(),
                config.leaseTimeout().toMillis(),
                config.killHungServer());
    }

    /** What this agent publishes now. */
    public AgentRecord record() {
        return record.get();
    }

    private void guarded(Runnable step) {
        try (MDC.MDCCloseable c = MDC.putCloseable("cluster", config.cluster());
                MDC.MDCCloseable n = MDC.putCloseable("node", config.node())) {
            step.run();
        } catch (RuntimeException e) {
            log.error("agent of {}: step failed", config.node(), e);
        }
    }

    // ------------------------------------------------------------------ the loop thread

    /** One look at the server, then whatever it calls for: report a change, kill a frozen server, fence, ack. */
    private void look() {
        if (rejoining) {
            return;
        }
        LocalServer.Seen now = server.look();
        long t = nanos.getAsLong();
        if (last == null) {
            last = now.running() ? now : LocalServer.Seen.NONE;
            change(
                    now.running() ? AgentRecord.RUNNING : AgentRecord.ABSENT,
                    now.pid(),
                    now.running() ? "server process " + now.pid() + " runs" : "no server process runs");
        } else if (!now.running()) {
            if (last.running()) {
                exited(last.pid(), "server process " + last.pid() + " exited");
            }
        } else if (now.frozen()) {
            if (!last.frozen() || last.pid() != now.pid()) {
                frozenSinceNanos = t;
                last = now;
                change(
                        AgentRecord.FROZEN,
                        now.pid(),
                        "server process " + now.pid() + " is stopped (a signal or a debugger): it answers nothing");
            } else if (config.killHungServer()
                    && t - frozenSinceNanos >= config.hungAfter().toNanos()) {
                exited(
                        now.pid(),
                        "server process " + now.pid() + " was frozen for " + (t - frozenSinceNanos) / 1_000_000
                                + " ms: killed (killHungServer)");
            }
        } else if (!last.running() || last.pid() != now.pid() || last.frozen()) {
            last = now;
            change(AgentRecord.RUNNING, now.pid(), "server process " + now.pid() + " runs");
        }
        if (last.running()) {
            fenceIfDue();
        }
        if (last.running() && t - scannedAtNanos >= SCAN_EVERY.toNanos()) {
            // Keeps the process scan compiled: the one that counts, right after an exit, then takes a millisecond or
            // two instead of the tens an interpreted first run costs.
            scannedAtNanos = t;
            server.processes(last.pid());
        }
        acknowledgeIfDue();
        rejoinIfDue(t);
    }

    /**
     * Rejoins this node as a standby of the published primary when the orchestrator marks it needs-rejoin, the record
     * names another node, and the lease is valid (what was read is current). At most one rejoin at a time; one for
     * the same epoch as the last (failed, or done and the orchestrator has not seen the node stream yet) only after
     * {@link #REJOIN_RETRY}; one for a newer primary at once.
     */
    private void rejoinIfDue(long t) {
        NodeState s = mine;
        PrimaryRecord p = primary;
        if (config.rejoin() == null
                || s == null
                || !s.needsRejoin()
                || p == null
                || p.nodeId().equals(config.node())
                || !lease.valid()
                || (p.epoch() == lastRejoinEpoch && t - nextRejoinNanos < 0)) {
            return;
        }
        rejoining = true;
        boolean running = last.running();
        log.info(
                "rejoining as a standby of {} (epoch {}): the orchestrator marks this node needs-rejoin",
                p.nodeId(),
                p.epoch());
        try {
            rejoiner.execute(() -> guarded(() -> rejoin(p, running)));
        } catch (RejectedExecutionException e) {
            rejoining = false;
        }
    }

    private static final Duration REJOIN_RETRY = Duration.ofSeconds(30);

    private void rejoin(PrimaryRecord p, boolean running) {
        String result;
        try {
            result = new PgRejoin(config).run(p, running);
            log.info("rejoin: {}", result);
        } catch (PgRejoin.Failed e) {
            result = "failed: " + e.getMessage();
            log.error("rejoin as a standby of {} {}", p.nodeId(), result);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = "interrupted (the agent is stopping)";
        } catch (RuntimeException e) {
            result = "failed: " + e;
            log.error("rejoin as a standby of {} failed", p.nodeId(), e);
        }
        String done = result;
        record.updateAndGet(r -> r.withRejoin(done));
        submit(this::publish);
        try {
            loop.execute(() -> {
                last = null; // looked at afresh: the rejoin stopped and started the server
                lastRejoinEpoch = p.epoch();
                nextRejoinNanos = nanos.getAsLong() + REJOIN_RETRY.toNanos();
                rejoining = false;
            });
        } catch (RejectedExecutionException e) {
            rejoining = false;
        }
    }

    /**
     * The main process is gone (or is to be killed): kill every process of the server, and report it exited only
     * when none remains; a server that could not be killed entirely is no proof of anything.
     */
    private void exited(long pid, String what) {
        LocalServer.Killed k = server.killAll(pid, AgentConfig.FENCE_BUDGET);
        if (!k.gone()) {
            log.error("{}, but its processes could not all be killed ({}): not reported exited", what, k.describe());
            return;
        }
        last = LocalServer.Seen.NONE;
        change(AgentRecord.EXITED, 0, what + "; " + k.describe());
    }

    /**
     * Fences the server when it must not stay primary: the orchestrator holds it as an unconfirmed primary, or it is
     * the published primary and the lease ran out. With {@code fence: none} nothing is done.
     */
    private void fenceIfDue() {
        if (config.fence() == AgentConfig.Fence.NONE) {
            return;
        }
        String why = null;
        HoldRecord h = hold;
        PrimaryRecord p = primary;
        if (heldHere(h, p)) {
            why = "the orchestrator holds this primary (hold " + h.operationId() + ", epoch " + h.epoch() + ")";
        } else if (p != null && config.node().equals(p.nodeId()) && lease.contacted() && !lease.valid()) {
            why = "it is the published primary (epoch " + p.epoch() + ") and ZooKeeper answered no linearizable"
                    + " round trip for " + lease.silentMillis() + " ms (lease "
                    + lease.timeout().toMillis() + " ms)";
        }
        if (why == null) {
            return;
        }
        long pid = last.pid();
        LocalServer.Killed k = server.killAll(pid, AgentConfig.FENCE_BUDGET);
        if (!k.gone()) {
            log.error("fencing server process {} because {} failed: {}", pid, why, k.describe());
            return;
        }
        last = LocalServer.Seen.NONE;
        log.warn("fenced the server (process {}): {}; {}", pid, why, k.describe());
        change(AgentRecord.FENCED, 0, "fenced: " + why + "; " + k.describe());
    }

    /** A hold of kind unconfirmed-primary for this node, not older than the primary record known here. */
    private boolean heldHere(HoldRecord h, PrimaryRecord p) {
        return h != null
                && HoldRecord.UNCONFIRMED_PRIMARY.equals(h.kind())
                && config.node().equals(h.fromNode())
                && (p == null || p.epoch() <= h.epoch());
    }

    /** Acknowledges a hold on this node once no process of the server remains. */
    private void acknowledgeIfDue() {
        HoldRecord h = hold;
        if (config.fence() == AgentConfig.Fence.NONE
                || !heldHere(h, primary)
                || h.operationId().equals(ackedHold)
                || !record.get().serverDown()
                || !RegistryPaths.isValidName(h.operationId())) {
            return;
        }
        ackedHold = h.operationId();
        submit(() -> acknowledge(h));
    }

    private void change(String server, long pid, String detail) {
        AgentRecord before = record.get();
        AgentRecord next = before.with(server, pid, detail, Instant.now());
        record.set(next);
        if (!server.equals(before.server())) {
            log.info("server {} → {}: {}", before.server(), server, detail);
        }
        submit(this::publish);
    }

    /**
     * The lease ping: {@code sync}, then the primary record and the hold, pipelined on one session, so the reads are
     * answered after the sync. The lease is renewed (from when the sync was sent) only when all three succeeded on
     * the session this agent is registered on; a follower cut off from its leader answers plain reads but no sync.
     */
    private void pingAndRepeat() {
        if (state.get() != State.STARTED) {
            return;
        }
        try {
            guarded(this::ping);
        } finally {
            long every = Math.max(50, lease.timeout().toMillis() / 4);
            try {
                loop.schedule(this::pingAndRepeat, every, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // closed
            }
        }
    }

    private void ping() {
        long sent = nanos.getAsLong();
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            boolean[] done = {false, false};
            zk.sync(primaryPath, (rc, path, ctx) -> done[0] = rc == KeeperException.Code.OK.intValue(), null);
            zk.getData(
                    primaryPath,
                    false,
                    (rc, path, ctx, data, stat) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            primary = parse(data, PrimaryRecord.class);
                            done[1] = true;
                        } else if (rc == KeeperException.Code.NONODE.intValue()) {
                            done[1] = true;
                        }
                    },
                    null);
            if (config.rejoin() != null) {
                zk.getData(
                        nodePath,
                        false,
                        (rc, path, ctx, data, stat) -> {
                            if (rc == KeeperException.Code.OK.intValue()) {
                                mine = parse(data, NodeState.class);
                            }
                        },
                        null);
            }
            zk.getData(
                    holdPath,
                    false,
                    (rc, path, ctx, data, stat) -> {
                        boolean read = rc == KeeperException.Code.OK.intValue()
                                || rc == KeeperException.Code.NONODE.intValue();
                        if (read) {
                            onHold(rc == KeeperException.Code.OK.intValue() ? data : null);
                        }
                        boolean registered = config.fence() == AgentConfig.Fence.NONE || registeredSession == session;
                        if (read && done[0] && done[1] && session != 0 && registered) {
                            lease.contact(sent);
                        } else if (read && done[0] && done[1] && !registered) {
                            submit(this::publish); // registers on this session; the next ping renews
                        }
                    },
                    null);
        } catch (Exception e) {
            log.debug("lease ping failed: {}", e.toString());
        }
    }

    private void onHold(byte[] data) {
        hold = data == null ? null : parse(data, HoldRecord.class);
        try {
            loop.execute(() -> guarded(this::look));
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private static <T> T parse(byte[] data, Class<T> type) {
        try {
            return RegistryJson.read(data, type);
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ the writer thread

    private void submit(Runnable write) {
        try {
            writer.execute(() -> guarded(write));
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void retrySoon() {
        try {
            loop.schedule(() -> submit(this::publish), RETRY_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /**
     * Writes the agent's record (an ephemeral node of the current session), and registers with the wrappers on that
     * session first, so that the orchestrator waits for this agent before it replaces a primary it cannot prove dead.
     */
    private void publish() {
        if (state.get() != State.STARTED || !client.getZookeeperClient().isConnected()) {
            return;
        }
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            if (session == 0) {
                return;
            }
            if (config.fence() != AgentConfig.Fence.NONE && registeredSession != session) {
                Duration fitted = lease.fitSession(
                        zk.getSessionTimeout(),
                        config.zookeeper().sessionTimeout().toMillis());
                ClientRegistration registration = new ClientRegistration(
                        clientId,
                        host,
                        ProcessHandle.current().pid(),
                        true,
                        fitted.plus(AgentConfig.FENCE_BUDGET).toMillis(),
                        Instant.now());
                createOwned(
                        RegistryPaths.client(config.cluster(), clientId), RegistryJson.write(registration), session);
                registeredSession = session;
            }
            String path = RegistryPaths.agent(config.cluster(), config.node());
            byte[] data = RegistryJson.write(record.get());
            if (recordSession == session) {
                client.setData().forPath(path, data);
            } else {
                createOwned(path, data, session);
                recordSession = session;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            recordSession = 0;
            log.debug("publishing the agent's record failed, retried: {}", e.toString());
            retrySoon();
        }
    }

    /**
     * Creates {@code path} as an ephemeral node of {@code session}; one left by an earlier session of this agent (not
     * expired yet) is replaced, since it would vanish with that session.
     */
    private void createOwned(String path, byte[] data, long session) throws Exception {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.EPHEMERAL)
                    .forPath(path, data);
        } catch (KeeperException.NodeExistsException e) {
            Stat stat = client.checkExists().forPath(path);
            if (stat != null && stat.getEphemeralOwner() == session) {
                client.setData().forPath(path, data);
                return;
            }
            if (stat != null) {
                try {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
                    // changed meanwhile: the create below says what is there now
                }
            }
            client.create().withMode(CreateMode.EPHEMERAL).forPath(path, data);
        }
    }

    private void acknowledge(HoldRecord h) {
        try {
            if (registeredSession != client.getZookeeperClient().getZooKeeper().getSessionId()) {
                publish();
            }
            client.create()
                    .withMode(CreateMode.EPHEMERAL)
                    .forPath(RegistryPaths.ack(config.cluster(), h.operationId(), clientId));
            log.info("acknowledged the hold {}: no process of the server remains", h.operationId());
        } catch (KeeperException.NodeExistsException e) {
            // acknowledged already
        } catch (KeeperException.NoNodeException e) {
            log.info("the hold {} is gone: nothing to acknowledge", h.operationId());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("could not acknowledge the hold {}: {}; retried", h.operationId(), e.toString());
            try {
                loop.schedule(() -> ackedHold = null, RETRY_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closed) {
                // closed
            }
        }
    }

    private void onConnectionState(CuratorFramework c, ConnectionState newState) {
        if (newState.isConnected()) {
            submit(this::publish);
        } else {
            log.warn(
                    "ZooKeeper is {}: the lease runs out {} ms after the last round trip",
                    newState,
                    lease.timeout().toMillis());
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "host";
        }
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            return;
        }
        loop.shutdownNow();
        writer.shutdownNow();
        rejoiner.shutdownNow();
        try {
            loop.awaitTermination(2, TimeUnit.SECONDS);
            writer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        holdCache.close();
        client.close(); // the record and the registration go with the session
    }
}
