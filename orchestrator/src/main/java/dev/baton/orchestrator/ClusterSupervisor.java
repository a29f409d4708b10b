package dev.baton.orchestrator;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.AgentReports;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.InvalidRecordException;
import dev.baton.orchestrator.coordination.UnconfirmedHold;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.detect.DetectionInput;
import dev.baton.orchestrator.detect.Detector;
import dev.baton.orchestrator.detect.RecordCheck;
import dev.baton.orchestrator.detect.Verdict;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.orchestrator.recover.ClusterContext;
import dev.baton.orchestrator.recover.FailoverEngine;
import dev.baton.orchestrator.recover.Hooks;
import dev.baton.orchestrator.recover.OperationSettler;
import dev.baton.orchestrator.recover.SwitchoverEngine;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeState;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Watches one cluster. Every instance joins the cluster's leader latch; only the leader probes, decides and acts,
 * and only while its ZooKeeper connection is up ({@code SUSPENDED} or {@code LOST} means stop acting now).
 */
public final class ClusterSupervisor implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ClusterSupervisor.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(3);

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final ClusterConfig cluster;
    private final Dialect dialect;
    private final CuratorFramework client;
    private final ClusterRegistry registry;
    private final LeaderLatch latch;
    private final ClusterMonitor monitor;
    private final FailoverEngine engine;
    private final SwitchoverEngine switchover;
    private final OperationSettler settler;
    private final ClusterLock lock;
    private final Hooks hooks;
    private final EventSink events;
    private final Clock clock;
    /** Monotonic time for every duration that guards safety (the wait before replacing an unconfirmed primary). */
    private final LongSupplier nanos = System::nanoTime;

    private final UnconfirmedHold holds;
    /** The agents' reports: a primary whose agent saw its server exit is failed over at once. */
    private final AgentReports agents;
    /** The published primary as the last round read it: only its agent's report of a death wakes the loop. */
    private volatile String publishedNode;

    /** The next round, so that an agent's report can bring it forward; touched on the loop thread (and by start). */
    private volatile ScheduledFuture<?> nextTick;
    /**
     * The start (monotonic) of the last round in which the published primary answered, {@link Long#MIN_VALUE} before
     * the first: an agent's report of its death counts only when it came after that.
     */
    private long primaryAnsweredNanos = Long.MIN_VALUE;
    /** This leadership term's handling of a primary not proven gone; replaced when a term starts. */
    private PrimarySuspicion suspicion;

    private final ScheduledExecutorService loop;
    /** Long steps (repoint, rejoin) run here, off the HA loop; their results go back to the loop. */
    private final ExecutorService background;
    /** Nodes with a repoint or rejoin running in the background. */
    private final Set<String> repointing = ConcurrentHashMap.newKeySet();

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private volatile boolean connected = true;

    // Only touched on the loop thread.
    private boolean leading;
    private int primaryFailures;
    private Position lastPrimaryPosition;
    private String lastPrimaryPositionNode;
    private Instant firstFailureAt;
    private String lastVerdictKind = "";
    private final Set<String> needsRejoin = new HashSet<>();
    private final Set<String> fenced = new HashSet<>();
    /** The anti-flap window counts from the last automatic failover (not from a planned switchover). */
    private Instant lastFailoverAt;

    private final Map<String, Instant> lastSeen = new HashMap<>();
    /** Per replica: the last received position and when it last moved (the silence of a hung primary). */
    private final Map<String, Position> lastReceived = new HashMap<>();

    private final Map<String, Instant> lastProgress = new HashMap<>();
    /** Replicas whose received position moved during this leadership term. */
    private final Set<String> movedThisTerm = new HashSet<>();
    /** When a probe of the published primary last succeeded in this leadership. */
    private Instant primaryLastContact;
    /** Failover attempts that did not succeed since the primary was last seen healthy, and when to try again. */
    private int failedFailovers;

    private Instant failoverNotBefore;
    private final Set<String> reportedDiverged = new HashSet<>();
    /** The highest epoch seen (records and history): a record with a lower one went backwards. */
    private long highestEpoch;

    private String lastRecordProblem;
    /** Per node, settings that would make Baton faster; read off the loop now and then. */
    private final Map<String, List<String>> advice = new ConcurrentHashMap<>();

    private Instant adviceReadAt;

    public ClusterSupervisor(
            ClusterConfig cluster,
            Dialect dialect,
            CuratorFramework client,
            String orchestratorId,
            ClusterEvent.Listener listener,
            Clock clock) {
        this.cluster = cluster;
        this.dialect = dialect;
        this.client = client;
        this.clock = clock;
        this.registry = new ClusterRegistry(client, cluster.name());
        this.latch = new LeaderLatch(client, RegistryPaths.leader(cluster.name()), orchestratorId);
        this.monitor = new ClusterMonitor(cluster, dialect, clock);
        this.events = new EventSink(cluster.name(), listener, clock);
        this.lock = new ClusterLock(client, RegistryPaths.lock(cluster.name()));
        this.hooks = new Hooks(cluster, registry, clock);
        this.holds = new UnconfirmedHold(client, cluster.name());
        this.agents = new AgentReports(client, cluster.name(), nanos, node -> {
            if (node.equals(publishedNode)) {
                wake();
            }
        });
        ClusterContext context =
                new ClusterContext(cluster, dialect, registry, monitor, lock, this::mayAct, events, clock, hooks);
        this.engine = new FailoverEngine(context);
        this.switchover = new SwitchoverEngine(context);
        this.settler = new OperationSettler(context);
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "baton-" + cluster.name());
            t.setDaemon(true);
            return t;
        });
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "baton-" + cluster.name() + "-background");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("supervisor of " + cluster.name() + " was already started");
        }
        client.getConnectionStateListenable().addListener((c, newState) -> {
            connected = newState.isConnected();
            if (newState == ConnectionState.SUSPENDED || newState == ConnectionState.LOST) {
                log.warn("[{}] ZooKeeper connection {}: not acting until it is back", cluster.name(), newState);
            }
        });
        latch.start();
        agents.start();
        nextTick = loop.schedule(this::tick, 0, TimeUnit.MILLISECONDS);
    }

    public boolean isLeader() {
        return latch.hasLeadership();
    }

    /** True while this instance may change the cluster: it leads and its ZooKeeper session is connected. */
    boolean mayAct() {
        return state.get() == State.STARTED && connected && latch.hasLeadership();
    }

    private void tick() {
        MDC.put("cluster", cluster.name());
        Duration next = cluster.pollInterval();
        try {
            next = round();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() stops the loop
        } catch (Throwable t) {
            if (state.get() == State.STARTED) {
                roundFailed(t);
            }
        } finally {
            MDC.remove("cluster");
            if (state.get() == State.STARTED) {
                nextTick = loop.schedule(this::tick, next.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * Runs the next round now instead of at its time (an agent reported its server down). On the loop thread, so it
     * never overlaps a round; a round already running finds the report itself.
     */
    private void wake() {
        try {
            loop.execute(() -> {
                ScheduledFuture<?> pending = nextTick;
                if (state.get() == State.STARTED && pending != null && pending.cancel(false)) {
                    tick();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    private String lastRoundError;
    private int repeatedRoundErrors;

    /** A failed round is logged once per distinct error, with a count when it stops repeating; no stack per round. */
    private void roundFailed(Throwable t) {
        String message = SqlFailures.describe(t, cluster.password());
        if (message.equals(lastRoundError)) {
            repeatedRoundErrors++;
            return;
        }
        if (repeatedRoundErrors > 0) {
            log.warn("[{}] the previous error repeated {} more times", cluster.name(), repeatedRoundErrors);
        }
        lastRoundError = message;
        repeatedRoundErrors = 0;
        log.error("[{}] supervision round failed (repeats are counted, not logged): {}", cluster.name(), message);
        log.debug("[{}] supervision round failed", cluster.name(), t);
    }

    /** The ZooKeeper session of the current leadership term: a term never outlives its session. */
    private long termSession;

    private long sessionId() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }

    private Duration round() throws Exception {
        // Leadership regained on a new session between two rounds is a new term: nothing of the old one (a hold, its
        // wait, a fence run) carries over.
        if (!mayAct() || (leading && sessionId() != termSession)) {
            if (leading) {
                leading = false;
                if (suspicion != null) {
                    suspicion.end();
                    suspicion = null;
                }
                events.emit(
                        ClusterEvent.Kind.STANDING_BY,
                        null,
                        "not the leader of " + cluster.name() + " any more: standing by");
            }
            return cluster.pollInterval();
        }
        if (!leading) {
            if (!loadStateFromRegistry()) {
                return cluster.pollInterval(); // never publish node states that forgot who needs rejoin
            }
            PrimarySuspicion term = new PrimarySuspicion(
                    cluster, holds, lock, this::mayAct, this::sessionId, background, events, clock, nanos);
            try {
                term.adopt(currentRecord());
            } catch (Exception e) {
                log.warn("[{}] could not read the hold node; not leading yet: {}", cluster.name(), e.toString());
                return cluster.pollInterval();
            }
            suspicion = term;
            leading = true;
            termSession = sessionId();
            primaryFailures = 0;
            primaryLastContact = null;
            lastReceived.clear();
            lastProgress.clear();
            movedThisTerm.clear();
            events.emit(ClusterEvent.Kind.LEADING, null, "leading cluster " + cluster.name());
        }
        Topology topology = monitor.probeAll();
        // After the answers, not before: a report of the server's death seen while its answer was on the way proves
        // nothing about the moment after that answer.
        long probed = nanos.getAsLong();
        Optional<Versioned<PrimaryRecord>> record;
        String recordProblem;
        try {
            record = registry.readPrimary();
            recordProblem = record.map(r -> RecordCheck.problem(cluster, dialect.key(), r.value(), highestEpoch))
                    .orElse(null);
        } catch (InvalidRecordException e) {
            record = Optional.empty();
            recordProblem = e.getMessage();
        }
        if (recordProblem != null) {
            record = Optional.empty();
            if (!recordProblem.equals(lastRecordProblem)) {
                events.emit(
                        ClusterEvent.Kind.RECORD_REJECTED,
                        null,
                        recordProblem + ". " + RecordCheck.remedy(cluster.name()));
            }
        } else if (lastRecordProblem != null) {
            log.info("[{}] the primary record is valid again", cluster.name());
        }
        lastRecordProblem = recordProblem;
        record.ifPresent(r -> highestEpoch = Math.max(highestEpoch, r.value().epoch()));
        String published = record.map(r -> r.value().nodeId()).orElse(null);
        if (!java.util.Objects.equals(published, publishedNode)) {
            primaryAnsweredNanos = Long.MIN_VALUE; // another primary: what the last one answered says nothing of it
        }
        publishedNode = published;
        String address = record.map(r -> streamAddress(r.value())).orElse(null);
        Optional<NodeObservation> primaryObs = published == null ? Optional.empty() : topology.node(published);
        if (primaryObs.isPresent() && Detector.countsAsDown(primaryObs.get())) {
            if (primaryFailures++ == 0) {
                firstFailureAt = primaryObs.get().at();
            }
        } else {
            primaryFailures = 0;
            primaryObs.filter(NodeObservation::reachable).ifPresent(p -> {
                primaryLastContact = p.at();
                primaryAnsweredNanos = probed;
            });
            primaryObs.filter(NodeObservation::isPrimary).ifPresent(p -> {
                lastPrimaryPosition = p.received();
                lastPrimaryPositionNode = p.id();
            });
        }
        trackProgress(topology);
        reportProbeFailures(topology);
        readAdviceNowAndThen(topology);
        OperationRecord operation = registry.readOperation().orElse(null);
        boolean paused = registry.isPaused();
        DetectionInput observed = detectionInput(topology, published, address, primaryFailures, paused);
        Verdict verdict = Detector.decide(observed);
        report(verdict);
        Duration silent = Detector.silentFor(observed);
        boolean looksDead = looksDead(observed, silent);
        if (!(verdict instanceof Verdict.PrimaryDead)) {
            failedFailovers = 0;
            failoverNotBefore = null;
            boolean answers = primaryObs.filter(NodeObservation::reachable).isPresent();
            if (published != null
                    && operation == null
                    && (answers
                            || (silent == null
                                    && verdict instanceof Verdict.PrimaryUnreachableButReplicating live
                                    && live.streamingReplicas().stream().anyMatch(movedThisTerm::contains)))) {
                // It answers, or it refuses only the orchestrator: its replicas receive from it. A replica that has
                // only not been quiet for long enough yet (a new term knows nothing of the time before) is no proof.
                // Never while an operation (a pending promotion) is recorded, or without a record to check against.
                suspicion.release();
            }
        }
        if (looksDead
                && observed.proofOfDeath() == null
                && !suspicion.holding(record.get().value())
                && !paused
                && recordProblem == null
                && operation == null
                && mayAct()
                && (lastFailoverAt == null || clock.instant().isAfter(lastFailoverAt.plus(cluster.antiFlapWindow())))) {
            // The primary looks gone, hung or cut off: hold the wrappers now, so that they acknowledge (or their lease
            // runs out) while the loss is being confirmed rather than after.
            suspicion.hold(record.get().value(), silent != null ? "is silent" : "refuses connections");
        }
        updateRejoinState(topology, published, address, operation);
        publishNodeStates(topology, published);

        Round.Action action = Round.next(new Round.Input(
                recordProblem,
                mayAct(),
                verdict,
                topology,
                published,
                address,
                operation,
                Set.copyOf(needsRejoin),
                Set.copyOf(repointing),
                operation == null && verdict instanceof Verdict.Healthy && registry.hasPendingRequest(),
                failoverNotBefore,
                verdict instanceof Verdict.PrimaryDead
                        && (observed.proofOfDeath() != null
                                || suspicion.cleared(record.get().value())),
                clock.instant()));
        return execute(action, topology, record, verdict);
    }

    /** Carries out the round's action; returns how long to wait before the next round. */
    private Duration execute(
            Round.Action action, Topology topology, Optional<Versioned<PrimaryRecord>> record, Verdict verdict)
            throws Exception {
        String published = record.map(r -> r.value().nodeId()).orElse(null);
        if (action instanceof Round.Action.Settle settle) {
            OperationSettler.Result result = settler.settle(topology);
            if (result == OperationSettler.Result.PUBLISHED) {
                suspicion.release(); // a newer primary is published: the hold of the old one is void
            }
            if (result == OperationSettler.Result.PUBLISHED && settle.operation() != null) {
                needsRejoin.add(settle.operation().fromNode());
                if (settle.operation().kind().equals("failover")) {
                    lastFailoverAt = clock.instant();
                }
                primaryFailures = 0;
                lastPrimaryPosition = null;
            }
            return result == OperationSettler.Result.WAITING ? cluster.recheckInterval() : Duration.ZERO;
        }
        if (action instanceof Round.Action.Bootstrap b) {
            NodeConfig node = cluster.node(b.node()).orElseThrow();
            // Above every epoch ever published: after a record deleted by hand, an epoch 1 would be ignored by every
            // wrapper that knows a newer one, and rejected by the record check.
            long epoch = Math.max(highestEpoch, registry.newestPublishedEpoch()) + 1;
            registry.publishFirst(new PrimaryRecord(
                    cluster.name(), node.id(), node.host(), node.port(), dialect.key(), epoch, clock.instant()));
            highestEpoch = Math.max(highestEpoch, epoch);
            events.emit(
                    ClusterEvent.Kind.BOOTSTRAPPED,
                    node.id(),
                    "published " + node.id() + " as primary, epoch " + epoch);
            return cluster.pollInterval();
        }
        if (action instanceof Round.Action.FailOver) {
            String address = streamAddress(record.get().value());
            Position position = published.equals(lastPrimaryPositionNode) ? lastPrimaryPosition : null;
            int confirmed = primaryFailures;
            Optional<FailoverEngine.Outcome> outcome = engine.failover(
                    record.get(),
                    position,
                    Set.copyOf(needsRejoin),
                    topology,
                    fresh -> {
                        trackProgress(fresh);
                        return Detector.decide(detectionInput(fresh, published, address, confirmed + 1, paused()));
                    },
                    firstFailureAt);
            if (outcome.isPresent()) {
                suspicion.release();
                needsRejoin.add(outcome.get().oldPrimary());
                lastFailoverAt = clock.instant();
                primaryFailures = 0;
                lastPrimaryPosition = null;
                failedFailovers = 0;
                failoverNotBefore = null;
            } else if (registry.readOperation().isEmpty()) {
                // refused, cancelled or failed: try again, less and less often (a pending promotion is settled)
                failedFailovers++;
                long factor = 1L << Math.min(10, failedFailovers - 1);
                Duration wait = cluster.pollInterval().multipliedBy(factor);
                failoverNotBefore = clock.instant().plus(wait.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait);
            }
            return cluster.pollInterval();
        }
        if (action instanceof Round.Action.SecureUnconfirmed u) {
            suspicion.secure(record.get().value());
            return cluster.recheckInterval();
        }
        if (action instanceof Round.Action.Fence f) {
            for (String node : f.nodes()) {
                fence(node, published);
            }
            return cluster.pollInterval();
        }
        if (action instanceof Round.Action.Switchover) {
            Optional<ClusterRegistry.Request> request = registry.nextPendingRequest();
            if (request.isPresent()) {
                SwitchoverEngine.Outcome outcome = switchover.run(request.get(), Set.copyOf(needsRejoin));
                String ran = request.get().report().id();
                int refused = registry.refusePending("refused: switchover " + ran
                        + " was queued or running when this one was asked for; ask again if it is still wanted");
                if (refused > 0) {
                    log.info("[{}] refused {} switchover request(s) queued behind {}", cluster.name(), refused, ran);
                }
                if (outcome.promoted()) {
                    lastPrimaryPosition = null;
                    needsRejoin.addAll(outcome.toRejoin());
                    fenced.addAll(outcome.toRejoin());
                    NodeConfig primary = cluster.node(outcome.newPrimary()).orElseThrow();
                    for (String node : outcome.toRejoin()) {
                        rejoinInBackground(cluster.node(node).orElseThrow(), primary);
                    }
                } else if (outcome.fencedTarget() != null) {
                    needsRejoin.add(outcome.fencedTarget());
                    fenced.add(outcome.fencedTarget());
                }
                return Duration.ZERO;
            }
            return cluster.pollInterval();
        }
        if (action instanceof Round.Action.Wait && verdict instanceof Verdict.Healthy) {
            reconnectWaitingReceivers(
                    topology, record.map(r -> streamAddress(r.value())).orElse(null));
        }
        if (action instanceof Round.Action.Repoint r) {
            NodeObservation primary = topology.node(published).orElseThrow();
            String fork = record.get().value().forkPosition();
            for (String id : r.nodes()) {
                NodeObservation replica = topology.node(id).orElseThrow();
                if (dialect.canFollow(replica, primary, fork)) {
                    repointInBackground(replica.node(), primary.node());
                } else {
                    needsRejoin.add(id);
                    Instant last = rejoinAttempted.get(id);
                    boolean canRejoin = cluster.rejoinCommandFor(replica.node()) != null
                            || !dialect.key().equals("postgresql")
                            || agentRejoins(id);
                    if (canRejoin && (last == null || clock.instant().isAfter(last.plus(REJOIN_RETRY)))) {
                        rejoinAttempted.put(id, clock.instant());
                        rejoinInBackground(replica.node(), primary.node());
                    }
                    if (reportedDiverged.add(id)) {
                        events.emit(
                                ClusterEvent.Kind.REPLICA_DIVERGED,
                                id,
                                id + " replicates from " + replica.upstream() + ", not from the primary " + published
                                        + ", and holds history the primary lacks ("
                                        + (replica.received() == null
                                                ? "?"
                                                : replica.received().text()) + ", fork "
                                        + fork + "): not repointed; "
                                        + (canRejoin ? "rejoining it" : "needs rejoin by an operator"));
                    }
                }
            }
            return cluster.pollInterval();
        }
        return primaryFailures > 0 ? cluster.recheckInterval() : cluster.pollInterval();
    }

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** When each replica's waiting receiver was last reconnected: at most once per {@link #RECONNECT_RETRY}. */
    private final Map<String, Instant> reconnected = new HashMap<>();

    private static final Duration RECONNECT_RETRY = Duration.ofSeconds(10);

    /**
     * Replicas of the healthy published primary that do not stream, in the background: a receiver that only waits out
     * its retry interval is reconnected (a primary that restarted before it was declared dead leaves MariaDB replicas
     * behind for up to 60 s otherwise).
     */
    private void reconnectWaitingReceivers(Topology topology, String address) {
        Instant now = clock.instant();
        for (NodeObservation n : topology.nodes()) {
            if (!n.isReplica()
                    || n.streaming()
                    || address == null
                    || !address.equalsIgnoreCase(n.upstream())
                    || needsRejoin.contains(n.id())
                    || repointing.contains(n.id())) {
                continue;
            }
            Instant last = reconnected.get(n.id());
            if (last != null && now.isBefore(last.plus(RECONNECT_RETRY))) {
                continue;
            }
            reconnected.put(n.id(), now);
            NodeConfig node = n.node();
            background.execute(() -> {
                try (Connection c = dialect.connect(node, ADMIN_TIMEOUT)) {
                    if (dialect.reconnectWaitingReceiver(c)) {
                        log.info(
                                "[{}] {} was waiting to reconnect to the primary: reconnected it",
                                cluster.name(),
                                node.id());
                    }
                } catch (Exception e) {
                    log.debug("reconnecting the receiver of {} failed", node.id(), e);
                }
            });
        }
    }

    // ---------------------------------------------------------------- a primary that is not proven gone

    /** How long a primary must look silent before the wrappers are held (their lease starts running). */
    private static final Duration EARLY_HOLD = Duration.ofMillis(500);

    /**
     * Whether the published primary looks gone or cut off after more than one failed probe, so that the wrappers are
     * held now: it has been silent for {@link #EARLY_HOLD}, or it refuses and the detector would call it dead at the
     * failures counted so far (its replicas lost it too). One slow probe holds nothing.
     */
    private boolean looksDead(DetectionInput observed, Duration silent) {
        int enough = Math.min(2, cluster.failureThreshold());
        if (observed.publishedPrimary() == null || observed.primaryFailures() < enough) {
            return false;
        }
        if (silent != null) {
            return silent.compareTo(EARLY_HOLD) >= 0;
        }
        DetectionInput sooner =
                observed.withFailureThreshold(Math.min(observed.failureThreshold(), observed.primaryFailures()));
        return Detector.decide(sooner) instanceof Verdict.PrimaryDead;
    }

    /** The primary record as it is now, or null (none, or unreadable: nothing to adopt a hold for). */
    private PrimaryRecord currentRecord() {
        try {
            return registry.readPrimary().map(Versioned::value).orElse(null);
        } catch (Exception e) {
            return null;
        }
    }

    /** Where the replicas of the published primary stream from: its configured replication address. */
    private String streamAddress(PrimaryRecord record) {
        return cluster.node(record.nodeId()).map(NodeConfig::streamAddress).orElse(record.address());
    }

    /** Whether the cluster is paused; when that cannot be read, as if it were (no failover on a guess). */
    private boolean paused() {
        try {
            return registry.isPaused();
        } catch (Exception e) {
            return true;
        }
    }

    private DetectionInput detectionInput(
            Topology topology, String published, String address, int failures, boolean paused) {
        return new DetectionInput(
                topology,
                published,
                address,
                failures,
                cluster.failureThreshold(),
                paused,
                connected,
                lastFailoverAt,
                cluster.antiFlapWindow(),
                lastProgress,
                primaryLastContact,
                cluster.primarySilence(),
                clock.instant(),
                published == null ? null : agents.proofOfDeath(published, primaryAnsweredNanos));
    }

    /** Remembers, per replica, when its received position last moved. */
    private void trackProgress(Topology topology) {
        for (NodeObservation n : topology.nodes()) {
            if (!n.isReplica()) {
                lastReceived.remove(n.id());
                lastProgress.remove(n.id());
                continue;
            }
            Position before = lastReceived.put(n.id(), n.received());
            boolean moved = before != null && n.received() != null && dialect.compare(n.received(), before) != 0;
            if (moved) {
                movedThisTerm.add(n.id());
            }
            if (before == null || n.received() == null || moved || !lastProgress.containsKey(n.id())) {
                lastProgress.put(n.id(), n.at());
            }
        }
    }

    /** The last probe failure said per node: each node's failures are logged once per kind, not every round. */
    private final Map<String, FailureKind> saidFailure = new HashMap<>();

    private void reportProbeFailures(Topology topology) {
        for (NodeObservation n : topology.nodes()) {
            FailureKind said = saidFailure.get(n.id());
            if (n.reachable()) {
                if (said != null) {
                    log.info("[{}] {} answers probes again", cluster.name(), n.id());
                    saidFailure.remove(n.id());
                }
            } else if (n.failure() != said) {
                saidFailure.put(n.id(), n.failure());
                if (n.failure() == FailureKind.AUTHENTICATION) {
                    log.warn(
                            "[{}] {} refuses Baton's credentials (clusters[{}].user/password): {}; it is not counted"
                                    + " as down",
                            cluster.name(),
                            n.id(),
                            cluster.name(),
                            n.error());
                } else {
                    log.info("[{}] probes of {} fail ({}): {}", cluster.name(), n.id(), n.failure(), n.error());
                }
            }
        }
    }

    /** Every few minutes, off the loop: which settings of the reachable nodes would make Baton faster. */
    private void readAdviceNowAndThen(Topology topology) {
        Instant now = clock.instant();
        if (adviceReadAt != null && now.isBefore(adviceReadAt.plus(ADVICE_INTERVAL))) {
            return;
        }
        adviceReadAt = now;
        List<NodeConfig> reachable = topology.nodes().stream()
                .filter(NodeObservation::reachable)
                .map(NodeObservation::node)
                .toList();
        background.execute(() -> {
            for (NodeConfig node : reachable) {
                try (Connection c = dialect.connect(node, ADMIN_TIMEOUT)) {
                    advice.put(node.id(), dialect.advice(c));
                } catch (Exception e) {
                    log.debug("reading the settings of {} failed", node.id(), e);
                }
            }
        });
    }

    private static final Duration ADVICE_INTERVAL = Duration.ofMinutes(5);

    private void repointInBackground(NodeConfig replica, NodeConfig primary) {
        if (!repointing.add(replica.id())) {
            return;
        }
        background.execute(() -> {
            try (Connection p = dialect.connect(primary, ADMIN_TIMEOUT);
                    Connection c = dialect.connect(replica, ADMIN_TIMEOUT)) {
                dialect.prepareReplicas(p, List.of(replica));
                dialect.repoint(c, replica, primary, cluster.replicationUser());
                events.emit(
                        ClusterEvent.Kind.REPOINTED,
                        replica.id(),
                        replica.id() + " replicated from elsewhere: now replicates from " + primary.id());
            } catch (Exception e) {
                log.warn(
                        "[{}] repointing {} to {} failed (retried next round): {}",
                        cluster.name(),
                        replica.id(),
                        primary.id(),
                        SqlFailures.describe(e, cluster.password()));
            } finally {
                repointing.remove(replica.id());
            }
        });
    }

    /** When a diverged replica was last given to its rejoin (tried again after REJOIN_RETRY). */
    private final Map<String, Instant> rejoinAttempted = new HashMap<>();

    /** Whether {@code node}'s agent is connected and rejoins its node itself (the orchestrator then does not). */
    private boolean agentRejoins(String node) {
        return agents.of(node).map(r -> r.record().rejoins()).orElse(false);
    }

    private static final Duration REJOIN_RETRY = Duration.ofMinutes(1);

    private void rejoinInBackground(NodeConfig node, NodeConfig primary) {
        if (agentRejoins(node.id())) {
            log.info("[{}] {} needs rejoin: its agent rejoins it", cluster.name(), node.id());
            return;
        }
        if (!repointing.add(node.id())) {
            return;
        }
        background.execute(() -> {
            try (Connection c = dialect.connect(node, ADMIN_TIMEOUT)) {
                dialect.rejoin(c, node, primary);
                log.info("[{}] rejoin of {} as a replica of {} done", cluster.name(), node.id(), primary.id());
            } catch (Exception e) {
                events.emit(
                        ClusterEvent.Kind.REPLICA_DIVERGED,
                        node.id(),
                        "rejoin of " + node.id() + " as a replica of " + primary.id() + " failed: "
                                + SqlFailures.describe(e, cluster.password()) + "; needs rejoin by an operator");
            } finally {
                repointing.remove(node.id());
            }
        });
    }

    private void report(Verdict verdict) {
        String kind = verdict.getClass().getSimpleName();
        if (kind.equals(lastVerdictKind)) {
            return;
        }
        lastVerdictKind = kind;
        if (verdict instanceof Verdict.PrimarySuspect s) {
            events.emit(ClusterEvent.Kind.PRIMARY_SUSPECT, s.primary(), verdict.describe());
        } else if (verdict instanceof Verdict.PrimaryDead d) {
            events.emit(ClusterEvent.Kind.PRIMARY_DEAD, d.primary(), verdict.describe());
        } else if (verdict instanceof Verdict.PrimaryUnreachableButReplicating u) {
            events.emit(ClusterEvent.Kind.PRIMARY_UNREACHABLE_BUT_REPLICATING, u.primary(), verdict.describe());
        } else if (!(verdict instanceof Verdict.Bootstrap)) {
            log.info("[{}] {}", cluster.name(), verdict.describe());
        }
    }

    /**
     * A node Baton demoted (or found diverged) stays excluded until it streams again as a replica of the published
     * primary. A node an operation is promoting is never counted as a stale primary.
     */
    private void updateRejoinState(Topology topology, String published, String address, OperationRecord operation) {
        for (NodeObservation n : topology.nodes()) {
            if (needsRejoin.contains(n.id())
                    && n.isReplica()
                    && n.streaming()
                    && address != null
                    && address.equalsIgnoreCase(n.upstream())
                    && !repointing.contains(n.id())) {
                needsRejoin.remove(n.id());
                fenced.remove(n.id());
                reportedDiverged.remove(n.id());
                events.emit(
                        ClusterEvent.Kind.NODE_REJOINED,
                        n.id(),
                        n.id() + " streams again as a replica: candidate again");
            }
        }
        if (published != null) {
            for (String id : Detector.toFence(topology, published)) {
                if (operation == null || !id.equals(operation.toNode())) {
                    needsRejoin.add(id);
                }
            }
        }
    }

    /**
     * Fences a writable node that is not the published primary, after checking again, under the cluster lock, that
     * this instance may act and that the record still names another node: a node promoted by a running operation
     * (lock held) is never touched.
     */
    private void fence(String nodeId, String published) {
        NodeConfig node = cluster.node(nodeId).orElseThrow();
        boolean locked = false;
        try {
            if (!mayAct() || !lock.acquire(100, TimeUnit.MILLISECONDS)) {
                return;
            }
            locked = true;
            Optional<Versioned<PrimaryRecord>> now = registry.readPrimary();
            if (now.isEmpty()
                    || !now.get().value().nodeId().equals(published)
                    || registry.readOperation().isPresent()
                    || !mayAct()) {
                return;
            }
            registry.checkHeld(lock.heldPath());
            try (Connection c = dialect.connect(node, ADMIN_TIMEOUT)) {
                dialect.fence(c);
            }
            fenced.add(nodeId);
            needsRejoin.add(nodeId);
            events.emit(
                    ClusterEvent.Kind.FENCED,
                    nodeId,
                    nodeId + " runs as a primary of an older epoch: made read-only, sessions ended; needs rejoin");
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("[{}] fencing {} failed: {}", cluster.name(), nodeId, SqlFailures.describe(e, cluster.password()));
        } finally {
            if (locked) {
                try {
                    lock.release();
                } catch (Exception e) {
                    log.warn("[{}] releasing the cluster lock failed: {}", cluster.name(), e.toString());
                }
            }
        }
    }

    /** Reads which nodes need rejoin and when the last failover was; false when that could not be read. */
    private boolean loadStateFromRegistry() {
        try {
            for (NodeState s : registry.readNodeStates()) {
                if (s.needsRejoin()) {
                    needsRejoin.add(s.nodeId());
                }
                if (s.fenced()) {
                    fenced.add(s.nodeId());
                }
            }
            List<HistoryEntry> history = registry.readHistory();
            highestEpoch = Math.max(
                    highestEpoch,
                    history.stream()
                            .filter(h -> h.outcome().startsWith("succeeded"))
                            .mapToLong(HistoryEntry::epoch)
                            .max()
                            .orElse(0));
            lastFailoverAt = history.stream()
                    .filter(h -> h.kind().equals("failover") && h.outcome().equals("succeeded"))
                    .map(HistoryEntry::finishedAt)
                    .reduce((a, b) -> b)
                    .orElse(null);
            return true;
        } catch (Exception e) {
            log.warn("[{}] could not read node states; not leading yet: {}", cluster.name(), e.toString());
            return false;
        }
    }

    private void publishNodeStates(Topology topology, String published) {
        Position primaryPosition = topology.node(published == null ? "" : published)
                .filter(NodeObservation::isPrimary)
                .map(NodeObservation::received)
                .orElse(null);
        List<NodeState> states = new java.util.ArrayList<>();
        for (NodeObservation n : topology.nodes()) {
            long lag = -1;
            if (primaryPosition != null && n.isReplica() && n.applied() != null) {
                lag = dialect.distance(primaryPosition, n.applied());
            } else if (n.id().equals(published) && n.isPrimary()) {
                lag = 0;
            }
            NodeState state = new NodeState(
                    n.id(),
                    n.node().host(),
                    n.node().port(),
                    n.reachable(),
                    n.role(),
                    n.timeline(),
                    n.received() == null ? null : n.received().text(),
                    n.applied() == null ? null : n.applied().text(),
                    lag,
                    n.replayDelaySeconds(),
                    n.upstream(),
                    n.streaming(),
                    n.reachable() ? n.isPrimary() && n.readOnly() : fenced.contains(n.id()),
                    needsRejoin.contains(n.id()),
                    n.error(),
                    lastSeen(n),
                    advice.get(n.id()));
            registry.writeNodeStateInBackground(state);
            states.add(state);
        }
        events.observed(states, monitor.lastProbeTimes());
    }

    /** When the node last answered a probe (kept across failed probes, so status can say how long ago). */
    private Instant lastSeen(NodeObservation n) {
        if (n.reachable()) {
            lastSeen.put(n.id(), n.at());
        }
        return lastSeen.get(n.id());
    }

    @Override
    public void close() {
        if (!state.compareAndSet(State.STARTED, State.CLOSED)) {
            state.set(State.CLOSED);
            return;
        }
        loop.shutdownNow();
        background.shutdownNow();
        hooks.close();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            latch.close();
        } catch (Exception e) {
            log.debug("closing the leader latch failed", e);
        }
        agents.close();
        monitor.close();
    }
}
