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
    /** When the loop last looked (read by the pings: no renewal while the loop that fences does not run). */
    private volatile long lastLookNanos;
    /** Until then (after a stall) the lease does not fence: a fresh round trip is awaited. */
    private long recheckUntilNanos = Long.MIN_VALUE / 2;

    /** A gap between two looks longer than this means the agent itself was stopped or starved. */
    private static final Duration STALL = Duration.ofSeconds(1);

    /** The epoch the last rejoin was for: a new epoch is rejoined at once, the same one after {@link #REJOIN_RETRY}. */
    private long lastRejoinEpoch = -1;

    // written by ZooKeeper callbacks, read by the loop
    private volatile NodeState mine;
    /** The last renewing round trip found this node a stale primary ({@link #stale}). */
    private volatile boolean stale;

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
                AgentRecord.UNKNOWN,
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
        } catch (Error e) {
            // A loop that died silently would go on renewing nothing but promising a fence it no longer makes: the
            // process ends instead, and its registration goes with its session.
            log.error("agent of {}: {}; stopping the agent", config.node(), e.toString(), e);
            Runtime.getRuntime().halt(70);
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
        if (lastLookNanos != 0 && t - lastLookNanos > STALL.toNanos()) {
            // Stopped (SIGSTOP), or starved: whatever the lease says now was not seen in time. A fresh round trip (on
            // a new session if the old one expired meanwhile: Curator needs up to a session timeout to find that out)
            // decides before the lease can fence a primary that may be healthy. A fence due during the stall is late
            // anyway: only a watchdog that resets the host could have made it in time.
            recheckUntilNanos = t + config.zookeeper().sessionTimeout().toNanos();
            log.warn(
                    "the agent did not run for {} ms: the lease is renewed or found gone by a fresh round trip"
                            + " before it fences anything",
                    (t - lastLookNanos) / 1_000_000);
            try {
                loop.execute(() -> guarded(this::ping));
            } catch (RejectedExecutionException e) {
                // closed
            }
        }
        lastLookNanos = t;
        if (last == null) {
            last = now.running() ? now : LocalServer.Seen.NONE;
            change(
                    now.running() ? AgentRecord.RUNNING : AgentRecord.ABSENT,
                    now.pid(),
                    now.running() ? "server process " + now.pid() + " runs" : "no server process runs");
        } else if (!now.running()) {
            // Gone only if that very process is: a pid file being rewritten, or /proc unreadable for a moment, is no
            // exit.
            if (last.running() && !server.isAlive(last)) {
                exited(last, "server process " + last.pid() + " exited");
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
                        now,
                        "server process " + now.pid() + " was frozen for " + (t - frozenSinceNanos) / 1_000_000
                                + " ms: killed (killHungServer)");
            }
        } else if (!last.running() || last.pid() != now.pid() || last.frozen()) {
            last = now;
            change(AgentRecord.RUNNING, now.pid(), "server process " + now.pid() + " runs");
        }
        if (last.running()) {
            fenceIfDue(t);
        }
        if (last.running() && t - scannedAtNanos >= SCAN_EVERY.toNanos()) {
            // Keeps the process scan compiled: the one that counts, right after an exit, then takes a millisecond or
            // two instead of the tens an interpreted first run costs.
            scannedAtNanos = t;
            server.processes(last);
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
    private void exited(LocalServer.Seen main, String what) {
        LocalServer.Killed k = server.killAll(main, AgentConfig.FENCE_BUDGET);
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
    private void fenceIfDue(long t) {
        if (config.fence() == AgentConfig.Fence.NONE) {
            return;
        }
        String why = null;
        HoldRecord h = hold;
        PrimaryRecord p = primary;
        if (heldHere(h, p)) {
            why = "the orchestrator holds this primary (hold " + h.operationId() + ", epoch " + h.epoch() + ")";
        } else if (stale && p != null && runsAsPrimary()) {
            why = "it runs as a primary (no standby.signal) while " + p.nodeId() + " is published (epoch " + p.epoch()
                    + ") and the orchestrator marks this node needs-rejoin";
        } else if (p != null
                && config.node().equals(p.nodeId())
                && lease.contacted()
                && !lease.valid()
                && t - recheckUntilNanos >= 0) {
            why = "it is the published primary (epoch " + p.epoch() + ") and ZooKeeper answered no linearizable"
                    + " round trip for " + lease.silentMillis() + " ms (lease "
                    + lease.timeout().toMillis() + " ms)";
        }
        if (why == null) {
            return;
        }
        long pid = last.pid();
        LocalServer.Killed k = server.killAll(last, AgentConfig.FENCE_BUDGET);
        if (!k.gone()) {
            log.error("fencing server process {} because {} failed: {}", pid, why, k.describe());
            return;
        }
        last = LocalServer.Seen.NONE;
        log.warn("fenced the server (process {}): {}; {}", pid, why, k.describe());
        change(AgentRecord.FENCED, 0, "fenced: " + why + "; " + k.describe());
    }

    /**
     * PostgreSQL only, from one renewing round trip: another node is published, and the orchestrator saw this one run
     * as a primary and marks it needs-rejoin (it never marks a node it promotes). The server already ran as a primary
     * when the round trip was sent ({@link #runsAsPrimary()} before sending): a node promoted since then cannot be
     * taken for it, since the orchestrator cleared its mark before asking it to promote. The orchestrator's fence of
     * such a node is advisory; this one binds every client. On the MySQL family the orchestrator repoints a former
     * primary over SQL, which needs it running: left alone.
     */
    private boolean stale(PrimaryRecord p, NodeState s) {
        return config.dialect() == dev.baton.orchestrator.config.ClusterConfig.Dialect.POSTGRESQL
                && p != null
                && s != null
                && !p.nodeId().equals(config.node())
                && s.needsRejoin()
                && s.role() == dev.baton.registry.NodeRole.PRIMARY;
    }

    /** PostgreSQL: neither standby.signal nor recovery.signal in the data directory, so the server runs as a primary. */
    private boolean runsAsPrimary() {
        return config.dialect() == dev.baton.orchestrator.config.ClusterConfig.Dialect.POSTGRESQL
                && !java.nio.file.Files.exists(config.dataDirectory().resolve("standby.signal"))
                && !java.nio.file.Files.exists(config.dataDirectory().resolve("recovery.signal"));
    }

    /**
     * A hold of kind unconfirmed-primary for this node, marked for fencing (the orchestrator is about to replace it, not
     * only holding the wrappers while it confirms the loss), for the epoch of the primary record this agent read in
     * its last renewing round trip, which names this node.
     */
    private boolean heldHere(HoldRecord h, PrimaryRecord p) {
        return h != null
                && HoldRecord.UNCONFIRMED_PRIMARY.equals(h.kind())
                && h.fence()
                && p != null
                && config.node().equals(h.fromNode())
                && config.node().equals(p.nodeId())
                && p.epoch() == h.epoch();
    }

    /** Acknowledges a hold on this node once no process of the server remains. */
    private void acknowledgeIfDue() {
        HoldRecord h = hold;
        if (config.fence() == AgentConfig.Fence.NONE
                || !heldHere(h, primary)
                || h.operationId().equals(ackedHold)
                || !record.get().serverGone()
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
        boolean primaryBeforeSend = runsAsPrimary();
        long sent = nanos.getAsLong();
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long session = zk.getSessionId();
            // Collected on ZooKeeper's event thread (one session answers in order) and applied together, only when
            // the round trip renewed the lease: a record read without a renewal is no ground for a fence.
            boolean[] ok = {false, false, true};
            Object[] read = new Object[2];
            zk.sync(primaryPath, (rc, path, ctx) -> ok[0] = rc == KeeperException.Code.OK.intValue(), null);
            zk.getData(
                    primaryPath,
                    false,
                    (rc, path, ctx, data, stat) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            read[0] = parse(data, PrimaryRecord.class);
                            ok[1] = read[0] != null;
                        } else if (rc == KeeperException.Code.NONODE.intValue()) {
                            ok[1] = true;
                        }
                    },
                    null);
            zk.getData(
                    nodePath,
                    false,
                    (rc, path, ctx, data, stat) -> {
                        if (rc == KeeperException.Code.OK.intValue()) {
                            read[1] = parse(data, NodeState.class);
                        } else if (rc != KeeperException.Code.NONODE.intValue()) {
                            ok[2] = false;
                        }
                    },
                    null);
            zk.getData(
                    holdPath,
                    false,
                    (rc, path, ctx, data, stat) -> {
                        boolean holdRead = rc == KeeperException.Code.OK.intValue()
                                || rc == KeeperException.Code.NONODE.intValue();
                        if (!(holdRead && ok[0] && ok[1] && ok[2] && session != 0)) {
                            return;
                        }
                        boolean registered = config.fence() == AgentConfig.Fence.NONE || registeredSession == session;
                        if (!registered) {
                            submit(this::publish); // registers on this session; the next ping renews
                            return;
                        }
                        primary = (PrimaryRecord) read[0];
                        mine = (NodeState) read[1];
                        stale = primaryBeforeSend && stale((PrimaryRecord) read[0], (NodeState) read[1]);
                        HoldRecord h = rc == KeeperException.Code.OK.intValue() ? parse(data, HoldRecord.class) : null;
                        if (rc != KeeperException.Code.OK.intValue() || h != null) {
                            hold = h; // an unreadable hold keeps what was known
                        }
                        if (nanos.getAsLong() - lastLookNanos < STALL.toNanos()) {
                            lease.contact(sent); // only while the loop that fences runs
                        }
                        wakeLoop();
                    },
                    null);
        } catch (Exception e) {
            log.debug("lease ping failed: {}", e.toString());
        }
    }

    /** The hold cache's news: a hold that cannot be read keeps what was known. */
    private void onHold(byte[] data) {
        if (data == null) {
            hold = null;
        } else {
            HoldRecord h = parse(data, HoldRecord.class);
            if (h == null) {
                log.warn("the hold node is not readable: keeping the hold known before");
                return;
            }
            hold = h;
        }
        wakeLoop();
    }

    private void wakeLoop() {
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
                // Lease plus fence budget within three quarters of the session ZooKeeper granted: the registration
                // goes with the session, and the server must be fenced before the orchestrator stops waiting.
                long granted = zk.getSessionTimeout();
                long room = granted / 4 * 3 - AgentConfig.FENCE_BUDGET.toMillis();
                if (room < 100) {
                    refuseOnce("ZooKeeper granted a session of " + granted + " ms, too short for a lease plus the "
                            + AgentConfig.FENCE_BUDGET.toMillis() + " ms fence budget: not registered, so the"
                            + " orchestrator does not count on this agent's fence (raise the servers'"
                            + " maxSessionTimeout)");
                    return;
                }
                Duration fitted = lease.fitSession(Math.min(granted, room * 4 / 3), granted);
                ClientRegistration registration = new ClientRegistration(
                        clientId,
                        host,
                        ProcessHandle.current().pid(),
                        true,
                        fitted.plus(AgentConfig.FENCE_BUDGET).toMillis(),
                        Instant.now());
                long sent = nanos.getAsLong();
                createOwned(
                        RegistryPaths.client(config.cluster(), clientId), RegistryJson.write(registration), session);
                registeredSession = session;
                // A write answered: as linearizable as a ping, and the lease counts from its sending. Without it, a
                // partition right after registering would leave a lease that never started, and no fence.
                lease.contact(sent);
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
            refuseOnce("publishing the agent's record failed (retried every " + RETRY_MS + " ms): " + e);
            retrySoon();
        }
    }

    /** The last problem said at WARN, so that a wrong digest or a refused ACL is said once, not every retry. */
    private volatile String said;

    private void refuseOnce(String problem) {
        String key = problem.replaceAll("[0-9]+", "#");
        if (!key.equals(said)) {
            said = key;
            log.warn("{}", problem);
        } else {
            log.debug("{}", problem);
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
            if (stat != null && path.startsWith(RegistryPaths.agents(config.cluster()))) {
                AgentRecord other = parse(client.getData().forPath(path), AgentRecord.class);
                if (other != null && !host.equals(other.host())) {
                    throw new IllegalStateException("another agent, on host " + other.host() + " (pid "
                            + other.agentPid() + "), publishes for node " + config.node() + ": two agents for one"
                            + " node? this one does not replace it");
                }
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
            rejoiner.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (holdCache != null) {
            holdCache.close();
        }
        if (client != null) {
            client.close(); // the record and the registration go with the session
        }
    }
}
