package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.LostLockException;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.detect.Verdict;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.dialect.PromotionRefusedException;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.orchestrator.select.CandidateSelector;
import dev.baton.orchestrator.select.Selection;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out one automatic failover as an explicit sequence of steps, each timed and recorded in the history
 * entry: lock, re-check, select, catch up, promote, publish (versioned), post-promotion work, repoint.
 */
public final class FailoverEngine {
    private static final Logger log = LoggerFactory.getLogger(FailoverEngine.class);
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration PUBLISH_PATIENCE = Duration.ofSeconds(10);
    /** A topology the supervisor probed no longer ago than this is fresh enough to re-check on. */
    private static final Duration FRESH_ENOUGH = Duration.ofMillis(250);
    /** How long a failover waits for its promotion to finish before leaving it to the settler (never to another node). */
    private static final Duration PROMOTE_WAIT = Duration.ofSeconds(3);
    /** How long the check that a crashed primary came back may take: a refused connection answers at once. */
    private static final Duration BACK_CHECK_TIMEOUT = Duration.ofMillis(500);

    private final ClusterConfig cluster;
    private final Dialect dialect;
    private final ClusterRegistry registry;
    private final ClusterMonitor monitor;
    private final ClusterLock lock;
    private final BooleanSupplier mayAct;
    private final EventSink events;
    private final Clock clock;
    private final Hooks hooks;
    /** The reason of the last refusal, recorded once: a refused failover is retried every round. */
    private String lastRefusal;

    public FailoverEngine(ClusterContext context) {
        this.cluster = context.cluster();
        this.dialect = context.dialect();
        this.registry = context.registry();
        this.monitor = context.monitor();
        this.lock = context.lock();
        this.mayAct = context.mayAct();
        this.events = context.events();
        this.clock = context.clock();
        this.hooks = context.hooks();
    }

    /** What a finished failover changed; empty when it did nothing. */
    public record Outcome(PrimaryRecord published, String oldPrimary, long estimatedLoss) {}

    /**
     * Fails over from the primary of {@code seen}. {@code excluded} are nodes that must not be promoted (needing
     * rejoin); {@code observed} is the supervisor's latest topology (or null); {@code recheck} gives the verdict on a
     * fresh topology. Returns the new record, or empty when the
     * failover was refused, lost a race, or left a requested promotion for the settler to finish; never throws.
     */
    public Optional<Outcome> failover(
            Versioned<PrimaryRecord> seen,
            Position lastPrimaryPosition,
            Set<String> excluded,
            Topology observed,
            Function<Topology, Verdict> recheck,
            Instant detectedAt) {
        String dead = seen.value().nodeId();
        StepLog steps = new StepLog(clock);
        Instant started = clock.instant();
        OperationRecord op = OperationRecord.start(
                "failover", UUID.randomUUID().toString(), dead, seen.value().epoch(), started);
        long epoch = seen.value().epoch();
        boolean locked = false;
        String guard = null;
        try {
            if (!lock.acquire(LOCK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("failover of {}: cluster lock is held by someone else; not acting", dead);
                return Optional.empty();
            }
            locked = true;
            guard = lock.heldPath();
            steps.done("lock", "cluster lock acquired");
            Optional<Versioned<PrimaryRecord>> current = registry.readPrimary();
            if (current.isEmpty() || current.get().version() != seen.version()) {
                log.info("failover of {}: the primary record changed meanwhile; nothing to do", dead);
                return Optional.empty();
            }
            if (registry.readOperation().isPresent()) {
                log.info("failover of {}: an operation is recorded already; it is settled first", dead);
                return Optional.empty();
            }
            registry.writeOperation(op, guard);
            // The supervisor counted enough failed probes; here only a fresh round decides, once more: the round it
            // decided on when that is recent (a hung primary costs a whole probe timeout), else a new one.
            Topology topology = observed != null
                            && Duration.between(observed.at(), clock.instant()).compareTo(FRESH_ENOUGH) <= 0
                    ? observed
                    : monitor.probeAll();
            Verdict verdict = recheck.apply(topology);
            if (!(verdict instanceof Verdict.PrimaryDead d) || !d.actionable()) {
                steps.done("recheck", verdict.describe());
                end(op, guard, null, epoch, "cancelled", verdict.describe(), started, steps);
                return Optional.empty();
            }
            steps.done("recheck", "primary still dead");
            emit(ClusterEvent.Kind.FAILOVER_STARTED, dead, "failover started: " + verdict.describe());

            Set<String> notCandidates = new HashSet<>(excluded);
            notCandidates.add(dead);
            Selection selection = new CandidateSelector(dialect)
                    .select(
                            topology,
                            notCandidates,
                            lastPrimaryPosition,
                            cluster.maxLagOnFailover(),
                            false,
                            null,
                            cluster.allowErrantPromotion());
            if (selection.chosen().isEmpty()) {
                steps.done("select", selection.explain());
                if (!("refused: " + selection.explain()).equals(lastRefusal)) {
                    emit(ClusterEvent.Kind.FAILOVER_REFUSED, dead, "failover refused: " + selection.explain());
                    hooks.onFailoverRefused(new Hooks.Event(op.id(), dead, null, epoch, -1, selection.explain()));
                }
                end(op, guard, null, epoch, "refused", selection.explain(), started, steps);
                return Optional.empty();
            }
            NodeObservation candidate = selection.chosen().get();
            steps.done("select", selection.explain() + "; estimated loss " + selection.estimatedLoss());
            String veto = hooks.preFailover(
                    new Hooks.Event(
                            op.id(), dead, candidate.id(), epoch + 1, selection.estimatedLoss(), verdict.describe()),
                    steps);
            if (veto != null) {
                end(op, guard, candidate.id(), epoch, "cancelled", veto, started, steps);
                return Optional.empty();
            }

            PrimaryRecord next;
            try (Connection c = dialect.connect(candidate.node(), ADMIN_TIMEOUT)) {
                boolean caughtUp = dialect.awaitApplied(c, clock.instant().plus(cluster.catchUpTimeout()));
                if (!caughtUp) {
                    // Promoting now would discard what the candidate received but did not apply (a MySQL relay log
                    // is reset on promotion) while other replicas may have applied it: try again next round.
                    String why = candidate.id() + " did not apply what it received within "
                            + cluster.catchUpTimeout().toMillis() + " ms";
                    steps.done("catch-up", why + "; failover cancelled, retried next round");
                    end(op, guard, candidate.id(), epoch, "cancelled", why, started, steps);
                    return Optional.empty();
                }
                steps.done("catch-up", "applied all received changes");
                if (!mayAct.getAsBoolean()) {
                    steps.done("leadership", "lost leadership before promotion");
                    end(
                            op,
                            guard,
                            candidate.id(),
                            epoch,
                            "cancelled",
                            "lost leadership or ZooKeeper connection before promotion",
                            started,
                            steps);
                    return Optional.empty();
                }
                Position fork =
                        dialect.observe(c, candidate.node(), clock.instant()).applied();
                String forkText = fork == null ? null : fork.text();
                // Irrevocable from here: recorded first, under the lock, so that no other node is promoted until this
                // one is published or confirmed unable to finish; a new leader finishes it.
                registry.writeOperation(op.promoting(candidate.id(), forkText), guard);
                try {
                    dialect.promote(c, candidate.node(), PROMOTE_WAIT);
                } catch (PromotionRefusedException e) {
                    String why = SqlFailures.describe(e, cluster.password());
                    steps.done("promote", "refused: " + why);
                    end(op, guard, candidate.id(), epoch, "failed", why, started, steps);
                    return Optional.empty();
                } catch (Exception e) {
                    String why = SqlFailures.describe(e, cluster.password());
                    steps.done("promote", "requested, not confirmed: " + why);
                    emit(
                            ClusterEvent.Kind.PROMOTION_PENDING,
                            candidate.id(),
                            candidate.id() + " was asked to promote and has not confirmed yet (" + why
                                    + "); no other node is promoted meanwhile");
                    return Optional.empty(); // the operation record stays: the settler finishes it
                }
                steps.done("promote", candidate.id() + " promoted");
                emit(ClusterEvent.Kind.PROMOTED, candidate.id(), candidate.id() + " promoted to primary");
                next = seen.value()
                        .successor(
                                candidate.id(),
                                candidate.node().host(),
                                candidate.node().port(),
                                clock.instant(),
                                forkText);
                fenceIfBack(dead, topology, guard, steps);
                if (registry.publishAfterPromotion(next, seen.version(), guard, PUBLISH_PATIENCE)
                        == ClusterRegistry.Publication.LOST) {
                    // Another orchestrator published a different node meanwhile: ours must not take writes.
                    dialect.fence(c);
                    String why = "another orchestrator published a newer primary; fenced " + candidate.id();
                    steps.done("publish", why);
                    end(op, guard, candidate.id(), epoch, "failed", why, started, steps);
                    return Optional.empty();
                }
                steps.done("publish", "epoch " + next.epoch() + " published");
                emit(
                        ClusterEvent.Kind.PUBLISHED,
                        candidate.id(),
                        "published " + candidate.id() + " as primary, epoch " + next.epoch());
                List<NodeConfig> others = topology.replicas().stream()
                        .filter(n -> !n.id().equals(candidate.id()) && !notCandidates.contains(n.id()))
                        .map(NodeObservation::node)
                        .toList();
                try {
                    dialect.afterPromotion(c, others);
                    steps.done(
                            "after-promotion",
                            "slots for " + others.stream().map(NodeConfig::id).toList() + ", checkpoint");
                } catch (Exception e) {
                    // Published already: the failover stands; the replicas are still repointed below.
                    steps.done("after-promotion", "FAILED: " + SqlFailures.describe(e, cluster.password()));
                }
                for (NodeConfig other : others) {
                    repoint(other, candidate.node(), steps);
                }
            }
            lastRefusal = null;
            history(
                    op.id(),
                    dead,
                    candidate.id(),
                    next.epoch(),
                    "succeeded",
                    "primary " + dead + " died (detected "
                            + Duration.between(detectedAt, clock.instant()).toMillis() + " ms ago)",
                    selection.estimatedLoss(),
                    started,
                    steps);
            emit(
                    ClusterEvent.Kind.FAILOVER_FINISHED,
                    candidate.id(),
                    "failover finished in "
                            + Duration.between(started, clock.instant()).toMillis() + " ms; estimated data loss "
                            + selection.estimatedLoss() + " " + dialect.distanceUnit());
            hooks.postFailover(new Hooks.Event(
                    op.id(),
                    dead,
                    candidate.id(),
                    next.epoch(),
                    selection.estimatedLoss(),
                    "primary " + dead + " died"));
            return Optional.of(new Outcome(next, dead, selection.estimatedLoss()));
        } catch (LostLockException e) {
            log.warn("failover of {} stopped after step '{}': {}", dead, steps.last(), e.getMessage());
            return Optional.empty(); // whatever is recorded stays for the next leader
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = SqlFailures.describe(e, cluster.password());
            if (!("failed: " + why).equals(lastRefusal)) {
                log.error("failover of {} failed at step after '{}': {}", dead, steps.last(), why);
            }
            // A failure before the promotion was recorded leaves nothing behind; after it, the record stays.
            try {
                Optional<OperationRecord> left = registry.readOperation();
                if (left.isPresent()
                        && left.get().id().equals(op.id())
                        && !left.get().promoting()) {
                    end(op, guard, null, epoch, "failed", why, started, steps);
                } else if (left.isPresent() && left.get().id().equals(op.id())) {
                    history(op.id(), dead, null, epoch, "failed", why, -1, started, steps); // left to the settler
                } else if (!("failed: " + why).equals(lastRefusal)) {
                    lastRefusal = "failed: " + why;
                    history(op.id(), dead, null, epoch, "failed", why, -1, started, steps);
                }
            } catch (Exception again) {
                log.warn("could not record the failed failover: {}", again.toString());
            }
            return Optional.empty();
        } finally {
            if (locked) {
                Locks.release(lock);
            }
        }
    }

    /**
     * Ends an operation that promoted nothing: deletes its record (under the lock) and appends its history entry,
     * unless it is a refusal for the same reason as the last one.
     */
    private void end(
            OperationRecord op,
            String guard,
            String to,
            long epoch,
            String outcome,
            String reason,
            Instant started,
            StepLog steps)
            throws Exception {
        registry.clearOperation(guard);
        // the same refusal or failure, round after round, is recorded once
        String said = outcome + ": " + reason;
        boolean repeated = said.equals(lastRefusal);
        lastRefusal = outcome.equals("refused") || outcome.equals("failed") ? said : null;
        if (!repeated) {
            history(op.id(), op.fromNode(), to, epoch, outcome, reason, -1, started, steps);
            if (outcome.equals("failed")) {
                log.warn("failover of {} failed: {} (retried with a growing delay; said once)", op.fromNode(), reason);
            }
        }
    }

    private void repoint(NodeConfig replica, NodeConfig primary, StepLog steps) {
        try (Connection c = dialect.connect(replica, ADMIN_TIMEOUT)) {
            dialect.repoint(c, replica, primary, cluster.replicationUser());
            steps.done("repoint " + replica.id(), "now follows " + primary.id());
            emit(ClusterEvent.Kind.REPOINTED, replica.id(), replica.id() + " now replicates from " + primary.id());
        } catch (Exception e) {
            String why = SqlFailures.describe(e, cluster.password());
            steps.done("repoint " + replica.id(), "FAILED: " + why);
            log.warn("repointing {} to {} failed: {}", replica.id(), primary.id(), why);
        }
    }

    private void history(
            String id,
            String from,
            String to,
            long epoch,
            String outcome,
            String reason,
            long loss,
            Instant started,
            StepLog steps) {
        try {
            registry.appendHistory(new HistoryEntry(
                    id,
                    "failover",
                    cluster.name(),
                    from,
                    to,
                    epoch,
                    outcome,
                    reason,
                    loss,
                    dialect.distanceUnit(),
                    started,
                    clock.instant(),
                    steps.steps()));
        } catch (Exception e) {
            log.warn("could not append the failover to the history: {}", e.toString());
        }
    }

    private void emit(ClusterEvent.Kind kind, String node, String message) {
        events.emit(kind, node, message);
    }

    /**
     * A crashed primary that a service manager restarted (systemd {@code Restart=on-failure}) is writable again within
     * a second or two: checked, and fenced if so, right before the new primary is published, as the settler does. Not
     * for a primary whose probes timed out: checking it would cost a whole timeout, and the hold keeps the wrappers
     * away from it.
     */
    private void fenceIfBack(String dead, Topology topology, String guard, StepLog steps) {
        NodeObservation before = topology.node(dead).orElse(null);
        if (before != null && before.failure() == FailureKind.TIMEOUT) {
            return;
        }
        NodeConfig node = cluster.node(dead).orElseThrow();
        try (Connection c = dialect.connect(node, BACK_CHECK_TIMEOUT)) {
            NodeObservation now = dialect.observe(c, node, clock.instant());
            if (!now.isPrimary() || now.readOnly()) {
                return;
            }
            try {
                registry.checkHeld(guard);
                dialect.fence(c);
            } catch (Exception e) {
                // back, but not fenced: the supervisor fences it as a stale primary in its next rounds
                log.warn(
                        "{} came back during the failover and could not be fenced before the publication: {}",
                        dead,
                        SqlFailures.describe(e, cluster.password()));
                return;
            }
            steps.done("fence " + dead, "back as a writable primary: fenced before the new one is published");
            emit(
                    ClusterEvent.Kind.FENCED,
                    dead,
                    dead + " came back as a writable primary during the failover: made read-only, sessions"
                            + " ended, before the new primary is published");
        } catch (Exception e) {
            log.debug("{} is still down before the publication: {}", dead, e.toString());
        }
    }
}
