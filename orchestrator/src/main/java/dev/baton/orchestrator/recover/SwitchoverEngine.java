package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.LostLockException;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.OperationReport;
import dev.baton.registry.PrimaryRecord;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A planned switchover as explicit steps: preflight → hold new borrows in the wrappers → fence the old primary
 * (drain, read-only, end sessions) → wait until the target replayed the old primary's final position → promote →
 * publish epoch + 1 → release the hold → repoint the other replicas → rejoin the old primary as a replica.
 * A failure before the promotion rolls back (old primary writable again, hold released); after it, the
 * switchover goes forward and reports what is left to do.
 */
public final class SwitchoverEngine {
    private static final Logger log = LoggerFactory.getLogger(SwitchoverEngine.class);
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration PUBLISH_PATIENCE = Duration.ofSeconds(10);
    /** Time for the hold to reach every wrapper's watch before the old primary stops taking writes. */
    private static final Duration HOLD_PROPAGATION = Duration.ofMillis(100);

    private final ClusterConfig cluster;
    private final Dialect dialect;
    private final ClusterRegistry registry;
    private final ClusterMonitor monitor;
    private final ClusterLock lock;
    private final BooleanSupplier mayAct;
    private final EventSink events;
    private final Clock clock;
    private final Hooks hooks;

    public SwitchoverEngine(ClusterContext context) {
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

    /**
     * What a switchover did to the nodes: whether it promoted (and which node, for the rejoins), the nodes that must be
     * rejoined as replicas of the new primary (the old primary, and any replica that received history past the fork),
     * and a target that was fenced because its promotion failed or lost the race (null when none).
     */
    public record Outcome(boolean promoted, String newPrimary, List<String> toRejoin, String fencedTarget) {
        static final Outcome NOTHING = new Outcome(false, null, List.of(), null);

        static Outcome fenced(String target) {
            return new Outcome(false, null, List.of(), target);
        }
    }

    /** Carries out (or, for a dry run, plans) the request at {@code path}. Never throws. */
    public Outcome run(ClusterRegistry.Request request, Set<String> needsRejoin) {
        Progress progress = new Progress(request.path(), request.report());
        StepLog steps = new StepLog(clock, progress::steps);
        Instant started = clock.instant();
        boolean locked = false;
        try {
            if (!registry.claim(request, request.report().with(OperationReport.RUNNING, "preflight", List.of()))) {
                log.info("switchover request {} was withdrawn or taken by another orchestrator", request.path());
                return Outcome.NOTHING;
            }
            progress.update(OperationReport.RUNNING, "preflight");
            if (!lock.acquire(LOCK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                progress.finish("refused", "another operation holds the cluster lock");
                return Outcome.NOTHING;
            }
            locked = true;
            Optional<Versioned<PrimaryRecord>> record = registry.readPrimary();
            Topology topology = monitor.probeAll();
            SwitchoverPlanner.Plan plan = SwitchoverPlanner.plan(
                    cluster,
                    dialect,
                    topology,
                    record.map(r -> r.value().nodeId()).orElse(null),
                    needsRejoin,
                    registry.readOperation()
                            .map(o -> o.kind() + " " + o.id() + " from " + o.fromNode() + " (since " + o.startedAt()
                                    + ")")
                            .orElse(null),
                    request.report().target());
            progress.between(
                    plan.from(), plan.to(), record.map(r -> r.value().epoch()).orElse(0L));
            steps.done("preflight", String.join("; ", plan.verdicts()));
            if (!plan.approved()) {
                progress.finish("refused", plan.refusal());
                return Outcome.NOTHING;
            }
            if (request.report().dryRun()) {
                progress.finish(
                        "planned",
                        "would switch over from " + plan.from() + " to " + plan.to()
                                + ": hold, fence " + plan.from() + " (drain "
                                + cluster.drainTimeout().toMillis()
                                + " ms), catch up, promote " + plan.to() + ", publish epoch "
                                + (record.get().value().epoch() + 1) + ", release, repoint, rejoin " + plan.from());
                return Outcome.NOTHING;
            }
            return switchover(request, record.get(), topology, plan, steps, progress, started);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = SqlFailures.describe(e, cluster.password());
            log.error(
                    "switchover {} failed after step '{}': {}", request.report().id(), steps.last(), why, e);
            progress.finish("failed", why);
            return Outcome.NOTHING;
        } finally {
            if (locked) {
                Locks.release(lock);
            }
        }
    }

    private Outcome switchover(
            ClusterRegistry.Request request,
            Versioned<PrimaryRecord> record,
            Topology topology,
            SwitchoverPlanner.Plan plan,
            StepLog steps,
            Progress progress,
            Instant started)
            throws Exception {
        String id = request.report().id();
        NodeConfig from = cluster.node(plan.from()).orElseThrow();
        NodeConfig to = cluster.node(plan.to()).orElseThrow();
        String guard = lock.heldPath();
        OperationRecord op = OperationRecord.start(
                        "switchover", id, from.id(), record.value().epoch(), started)
                .at(OperationRecord.STARTED, to.id());
        registry.writeOperation(op, guard);
        events.emit(ClusterEvent.Kind.SWITCHOVER_STARTED, to.id(), "switchover from " + from.id() + " to " + to.id());
        try (Connection old = dialect.connect(from, ADMIN_TIMEOUT.plus(cluster.drainTimeout()));
                Connection target = dialect.connect(to, ADMIN_TIMEOUT.plus(cluster.catchUpTimeout()))) {
            // Before the promotion every failure rolls back.
            String rollbackReason;
            try {
                registry.createHold(
                        new HoldRecord(id, from.id(), to.id(), record.value().epoch(), clock.instant()), true);
                Thread.sleep(HOLD_PROPAGATION.toMillis());
                steps.done("hold", "wrappers hold new borrows");
                registry.writeOperation(op.at(OperationRecord.FENCED, to.id()), guard);
                dialect.fence(old, cluster.drainTimeout());
                steps.done(
                        "fence " + from.id(),
                        "read-only, sessions ended (drain up to "
                                + cluster.drainTimeout().toMillis() + " ms)");
                Position last = dialect.currentPosition(old);
                boolean caughtUp =
                        dialect.awaitPosition(target, last, clock.instant().plus(cluster.catchUpTimeout()));
                if (!caughtUp) {
                    rollbackReason = to.id() + " did not replay " + from.id() + "'s final position " + last.text()
                            + " within " + cluster.catchUpTimeout().toMillis() + " ms";
                } else if (!mayAct.getAsBoolean()) {
                    rollbackReason = "lost leadership or the ZooKeeper connection before the promotion";
                } else {
                    steps.done("catch-up", to.id() + " replayed " + last.text());
                    rollbackReason = null;
                }
            } catch (LostLockException e) {
                throw e; // not ours to roll back: the operation record tells the next leader what to do
            } catch (Exception e) {
                rollbackReason =
                        "step after '" + steps.last() + "' failed: " + SqlFailures.describe(e, cluster.password());
            }
            if (rollbackReason != null) {
                rollBack(old, from, steps, rollbackReason);
                registry.clearOperation(guard);
                finish(id, from, to, record.value().epoch(), "rolled-back", rollbackReason, started, steps);
                progress.finish("rolled-back", rollbackReason + "; " + from.id() + " is the writable primary again");
                return Outcome.NOTHING;
            }

            Position fork = dialect.observe(target, to, clock.instant()).applied();
            String forkText = fork == null ? null : fork.text();
            registry.writeOperation(op.promoting(to.id(), forkText), guard);
            try {
                dialect.promote(target, to, cluster.catchUpTimeout());
            } catch (Exception e) {
                String why = "promotion of " + to.id() + " failed: " + SqlFailures.describe(e, cluster.password());
                // The target was asked to promote and may still finish. Only once it is fenced (it cannot take writes
                // whatever it does) may the old primary have the cluster back; otherwise the settler finishes it.
                if (!fenceQuietly(to)) {
                    steps.done("promote " + to.id(), "requested, not confirmed: " + why);
                    events.emit(
                            ClusterEvent.Kind.PROMOTION_PENDING,
                            to.id(),
                            to.id() + " was asked to promote and could not be confirmed or fenced; it is finished"
                                    + " as soon as it can be reached");
                    progress.finish("failed", why + "; " + to.id() + " is finished by the settler when it answers");
                    return Outcome.NOTHING;
                }
                rollBack(old, from, steps, why);
                registry.clearOperation(guard);
                finish(id, from, to, record.value().epoch(), "rolled-back", why, started, steps);
                progress.finish("rolled-back", why + "; " + to.id() + " fenced, " + from.id() + " writable again");
                return Outcome.fenced(to.id());
            }
            steps.done("promote " + to.id(), "writable");
            PrimaryRecord next = record.value().successor(to.id(), to.host(), to.port(), clock.instant(), forkText);
            ClusterRegistry.Publication publication;
            try {
                publication = registry.publishAfterPromotion(next, record.version(), guard, PUBLISH_PATIENCE);
            } catch (LostLockException e) {
                throw e;
            } catch (Exception e) {
                // Unknown whether the record changed: give the cluster back to the old primary. If our record did
                // land after all, the leader's next rounds unfence the published node and fence the other.
                String why = "publishing " + to.id() + " failed: " + SqlFailures.describe(e, cluster.password());
                if (!fenceQuietly(to)) {
                    progress.finish("failed", why + "; " + to.id() + " is published by the settler");
                    return Outcome.NOTHING;
                }
                rollBack(old, from, steps, why);
                registry.clearOperation(guard);
                finish(id, from, to, record.value().epoch(), "rolled-back", why, started, steps);
                progress.finish("rolled-back", why + "; " + to.id() + " fenced, " + from.id() + " writable again");
                return Outcome.fenced(to.id());
            }
            if (publication == ClusterRegistry.Publication.LOST) {
                String why = "another orchestrator published a newer primary meanwhile; " + to.id() + " fenced";
                fenceQuietly(to);
                registry.deleteHold();
                registry.clearOperation(guard);
                steps.done("publish", why);
                finish(id, from, to, record.value().epoch(), "failed", why, started, steps);
                progress.finish("failed", why);
                return Outcome.fenced(to.id());
            }
            registry.deleteHold();
            steps.done("publish", "epoch " + next.epoch() + " published; wrappers released to " + to.id());
            events.emit(
                    ClusterEvent.Kind.PUBLISHED,
                    to.id(),
                    "published " + to.id() + " as primary, epoch " + next.epoch());
            progress.between(from.id(), to.id(), next.epoch());

            // After the promotion the switchover goes forward; what fails is left to the operator.
            StringBuilder leftToDo = new StringBuilder();
            List<NodeConfig> others = topology.replicas().stream()
                    .map(NodeObservation::node)
                    .filter(n -> !n.id().equals(to.id()) && !n.id().equals(from.id()))
                    .toList();
            try {
                dialect.afterPromotion(target, others);
                steps.done(
                        "after-promotion",
                        "slots for " + others.stream().map(NodeConfig::id).toList());
            } catch (Exception e) {
                leftToDo.append("post-promotion work on ")
                        .append(to.id())
                        .append(" failed: ")
                        .append(SqlFailures.describe(e, cluster.password()))
                        .append(". ");
            }
            List<String> toRejoin = new ArrayList<>(List.of(from.id()));
            NodeObservation promoted = dialect.observe(target, to, clock.instant());
            for (NodeConfig other : others) {
                try (Connection c = dialect.connect(other, ADMIN_TIMEOUT)) {
                    // A replica that received history the new primary lacks (past the fork) must be rewound first.
                    NodeObservation seen = dialect.observe(c, other, clock.instant());
                    if (!dialect.canFollow(seen, promoted, forkText)) {
                        String why = other.id() + " holds history past the fork " + forkText + " (it has "
                                + (seen.received() == null
                                        ? "nothing"
                                        : seen.received().text()) + ")";
                        steps.done("repoint " + other.id(), "diverged: " + why + "; rejoined");
                        events.emit(ClusterEvent.Kind.REPLICA_DIVERGED, other.id(), why + ": needs rejoin");
                        toRejoin.add(other.id());
                        continue;
                    }
                    dialect.repoint(c, other, to, cluster.replicationUser());
                    steps.done("repoint " + other.id(), "follows " + to.id());
                } catch (Exception e) {
                    leftToDo.append("repoint ")
                            .append(other.id())
                            .append(" to ")
                            .append(to.id())
                            .append(": ")
                            .append(SqlFailures.describe(e, cluster.password()))
                            .append(" (retried by the next rounds). ");
                }
            }
            steps.done(
                    "rejoin",
                    String.join(", ", toRejoin) + " to be rejoined as replicas of " + to.id() + " in the background");
            String outcome = leftToDo.isEmpty() ? "succeeded" : "succeeded-with-work-left";
            finish(
                    id,
                    from,
                    to,
                    next.epoch(),
                    outcome,
                    leftToDo.isEmpty() ? "planned switchover" : leftToDo.toString(),
                    started,
                    steps);
            events.emit(
                    ClusterEvent.Kind.SWITCHOVER_FINISHED,
                    to.id(),
                    "switchover from " + from.id() + " to " + to.id() + " finished in "
                            + Duration.between(started, clock.instant()).toMillis() + " ms");
            progress.leaving(leftToDo.isEmpty() ? null : leftToDo.toString().strip());
            progress.finish(
                    "succeeded", "switched over from " + from.id() + " to " + to.id() + ", epoch " + next.epoch());
            hooks.postSwitchover(new Hooks.Event(id, from.id(), to.id(), next.epoch(), 0, "planned switchover"));
            return new Outcome(true, to.id(), List.copyOf(toRejoin), null);
        }
    }

    private void rollBack(Connection old, NodeConfig from, StepLog steps, String reason) {
        try {
            dialect.unfence(old);
            steps.done("rollback", reason + "; " + from.id() + " writable again");
        } catch (Exception e) {
            steps.done(
                    "rollback", "unfencing " + from.id() + " FAILED: " + SqlFailures.describe(e, cluster.password()));
        }
        try {
            registry.deleteHold();
        } catch (Exception e) {
            log.warn("could not delete the hold node; it goes with this orchestrator's session", e);
        }
    }

    /** True when {@code node} was fenced. */
    private boolean fenceQuietly(NodeConfig node) {
        try (Connection c = dialect.connect(node, ADMIN_TIMEOUT)) {
            dialect.fence(c);
            return true;
        } catch (Exception e) {
            log.error("could not fence {}: {}", node.id(), SqlFailures.describe(e, cluster.password()));
            return false;
        }
    }

    private void finish(
            String id,
            NodeConfig from,
            NodeConfig to,
            long epoch,
            String outcome,
            String reason,
            Instant started,
            StepLog steps) {
        try {
            registry.appendHistory(new HistoryEntry(
                    id,
                    "switchover",
                    cluster.name(),
                    from.id(),
                    to.id(),
                    epoch,
                    outcome,
                    reason,
                    0,
                    dialect.distanceUnit(),
                    started,
                    clock.instant(),
                    steps.steps()));
        } catch (Exception e) {
            log.warn("could not append the switchover to the history: {}", e.toString());
        }
    }

    /** The request node, rewritten as the switchover goes. */
    private final class Progress {
        private final String path;
        private OperationReport report;

        Progress(String path, OperationReport report) {
            this.path = path;
            this.report = report;
        }

        void update(String state, String message) {
            report = report.with(state, message, report.steps());
            registry.updateRequest(path, report);
        }

        void steps(List<HistoryEntry.Step> steps) {
            report = report.with(report.state(), report.message(), steps);
            registry.updateRequest(path, report);
        }

        void between(String from, String to, long epoch) {
            report = report.between(from, to, epoch);
        }

        void leaving(String leftToDo) {
            report = report.leaving(leftToDo);
        }

        void finish(String state, String message) {
            update(state, message);
            log.info("switchover {}: {} ({})", report.id(), state, message);
        }
    }
}
