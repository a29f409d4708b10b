package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.LostLockException;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryPaths;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles what an operation left behind (a leader that stopped, a promotion slower than the failover waited), and
 * keeps the published primary writable:
 *
 * <ul>
 *   <li>an operation whose node was asked to promote is finished: once that node runs as a primary, the old primary
 *       is fenced if it is back and writable, then the node is published with epoch + 1. While it is still in
 *       recovery the promotion is asked for again; while it cannot be reached, the settler waits. A timeout is
 *       never taken as proof that it will not promote, so no other node is promoted meanwhile;
 *   <li>an operation that promoted nothing is given up;
 *   <li>a published primary left read-only (a switchover interrupted after its fence) is made writable again.
 * </ul>
 *
 * Every ZooKeeper write checks the cluster lock in the same transaction; the settler runs only while it can take
 * that lock at once, so it never interferes with a running operation.
 */
public final class OperationSettler {
    private static final Logger log = LoggerFactory.getLogger(OperationSettler.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration PROMOTE_WAIT = Duration.ofSeconds(1);
    private static final Duration PUBLISH_PATIENCE = Duration.ofSeconds(5);

    private final ClusterContext context;
    /** The last thing the settler waited for, said once rather than every round. */
    private String lastWait;

    public OperationSettler(ClusterContext context) {
        this.context = context;
    }

    /** What settling did. */
    public enum Result {
        /** Nothing to do, or not possible now (another operation holds the lock). */
        NOTHING,
        /** An interrupted or slow promotion was finished and published. */
        PUBLISHED,
        /** A promotion is still pending; asked again or waited for. */
        WAITING,
        /** An operation that promoted nothing was given up, or the published primary made writable again. */
        SETTLED
    }

    public Result settle(Topology topology) {
        ClusterRegistry registry = context.registry();
        boolean locked = false;
        try {
            if (!context.mayAct().getAsBoolean() || !context.lock().acquire(100, TimeUnit.MILLISECONDS)) {
                return Result.NOTHING; // an operation is running somewhere: it settles itself
            }
            locked = true;
            String guard = context.lock().heldPath();
            Optional<OperationRecord> op = registry.readOperation();
            Optional<Versioned<PrimaryRecord>> record = registry.readPrimary();
            if (op.isPresent()) {
                if (record.isPresent()
                        && record.get().value().epoch() <= op.get().epoch()
                        && op.get().promoting()) {
                    Result result = finishPromotion(op.get(), record.get(), topology, guard);
                    if (result == Result.PUBLISHED) {
                        registry.deleteHold(); // a switchover's hold outlives its leader until now
                        report(
                                op.get(),
                                "succeeded",
                                "finished by the orchestrator that took over: "
                                        + op.get().toNode() + " published");
                    }
                    return result;
                }
                if (record.isEmpty() && op.get().promoting()) {
                    // The record was deleted by hand: the promotion may still finish, so it is never given up for
                    // another node. Publishing needs the record's version; an operator restores it (baton zk).
                    waiting(op.get().toNode() + " was asked to promote ("
                            + op.get().kind() + " " + op.get().id()
                            + ") but the primary record "
                            + RegistryPaths.primary(context.cluster().name())
                            + " is missing: not given up; no other node is promoted until the record is back");
                    return Result.WAITING;
                }
                giveUp(op.get(), record, guard);
            }
            Optional<NodeObservation> primary =
                    registry.readPrimary().flatMap(r -> topology.node(r.value().nodeId()));
            if (primary.isPresent()
                    && primary.get().isPrimary()
                    && primary.get().readOnly()) {
                registry.checkHeld(guard);
                unfence(primary.get().node());
            }
            if (op.isPresent()) {
                registry.deleteHold();
                report(
                        op.get(),
                        "rolled-back",
                        "the orchestrator running it stopped before any node was asked to"
                                + " promote; rolled back by the one that took over");
            }
            return op.isPresent() ? Result.SETTLED : Result.NOTHING;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn(
                    "[{}] settling failed: {}",
                    context.cluster().name(),
                    e instanceof LostLockException
                            ? e.getMessage()
                            : SqlFailures.describe(e, context.cluster().password()));
            return Result.NOTHING;
        } finally {
            if (locked) {
                Locks.release(context.lock());
            }
        }
    }

    private void giveUp(OperationRecord op, Optional<Versioned<PrimaryRecord>> record, String guard) throws Exception {
        String name = context.cluster().name();
        if (record.isPresent() && record.get().value().epoch() > op.epoch()) {
            log.info(
                    "[{}] {} {} had published epoch {} before it stopped",
                    name,
                    op.kind(),
                    op.id(),
                    record.get().value().epoch());
        } else {
            log.warn(
                    "[{}] {} {} from {} stopped before it promoted anything: given up",
                    name,
                    op.kind(),
                    op.id(),
                    op.fromNode());
        }
        context.registry().clearOperation(guard);
    }

    private Result finishPromotion(OperationRecord op, Versioned<PrimaryRecord> record, Topology topology, String guard)
            throws Exception {
        String name = context.cluster().name();
        Optional<NodeObservation> promoted = topology.node(op.toNode());
        if (promoted.isEmpty() || !promoted.get().reachable()) {
            waiting(op.toNode() + " was asked to promote (" + op.kind() + " " + op.id() + ") and cannot be reached:"
                    + " waiting for it; no other node is promoted meanwhile");
            return Result.WAITING;
        }
        NodeConfig to = promoted.get().node();
        if (!promoted.get().isPrimary()) {
            try (Connection c = context.dialect().connect(to, ADMIN_TIMEOUT)) {
                context.dialect().promote(c, to, PROMOTE_WAIT);
            } catch (Exception e) {
                waiting(op.toNode() + " was asked to promote (" + op.kind() + " " + op.id() + ") and is still in"
                        + " recovery; asked again: "
                        + SqlFailures.describe(e, context.cluster().password()));
                return Result.WAITING;
            }
        }
        // Before the new primary is published, the old one must not take writes: fence it if it is back.
        Optional<NodeObservation> old = topology.node(op.fromNode());
        if (!op.fromNode().equals(to.id())
                && old.isPresent()
                && old.get().isPrimary()
                && !old.get().readOnly()) {
            context.registry().checkHeld(guard);
            try (Connection c = context.dialect().connect(old.get().node(), ADMIN_TIMEOUT)) {
                context.dialect().fence(c);
            }
            context.events()
                    .emit(
                            ClusterEvent.Kind.FENCED,
                            op.fromNode(),
                            op.fromNode() + " is back as a writable primary of epoch "
                                    + record.value().epoch() + ": made read-only, sessions ended, before " + to.id()
                                    + " is published");
        }
        if (promoted.get().readOnly()) {
            context.registry().checkHeld(guard);
            try (Connection c = context.dialect().connect(to, ADMIN_TIMEOUT)) {
                context.dialect().unfence(c);
            }
        }
        PrimaryRecord next = record.value()
                .successor(to.id(), to.host(), to.port(), context.clock().instant(), op.forkPosition());
        ClusterRegistry.Publication publication =
                context.registry().publishAfterPromotion(next, record.version(), guard, PUBLISH_PATIENCE);
        lastWait = null;
        if (publication == ClusterRegistry.Publication.LOST) {
            log.warn(
                    "[{}] a newer primary was published while {} finished promoting; it is fenced as stale",
                    name,
                    to.id());
            context.registry().clearOperation(guard);
            return Result.SETTLED;
        }
        context.events()
                .emit(
                        ClusterEvent.Kind.PUBLISHED,
                        to.id(),
                        "finished " + op.kind() + " " + op.id() + ": published " + to.id() + " as primary, epoch "
                                + next.epoch());
        // The other replicas are repointed by the next rounds; the new primary needs their slots first, and a
        // checkpoint for the old primary's rewind.
        List<NodeConfig> others = topology.replicas().stream()
                .map(NodeObservation::node)
                .filter(n -> !n.id().equals(to.id()) && !n.id().equals(op.fromNode()))
                .toList();
        try (Connection c = context.dialect().connect(to, ADMIN_TIMEOUT)) {
            context.dialect().afterPromotion(c, others);
        } catch (Exception e) {
            log.warn(
                    "[{}] post-promotion work on {} failed (repoints prepare their slots again): {}",
                    name,
                    to.id(),
                    SqlFailures.describe(e, context.cluster().password()));
        }
        context.registry()
                .appendHistory(new HistoryEntry(
                        op.id(),
                        op.kind(),
                        name,
                        op.fromNode(),
                        to.id(),
                        next.epoch(),
                        "succeeded",
                        "finished by the settler: " + to.id() + " had been asked to promote",
                        -1,
                        context.dialect().distanceUnit(),
                        op.startedAt(),
                        context.clock().instant(),
                        List.of(new HistoryEntry.Step("publish", 0, "epoch " + next.epoch() + " by the settler"))));
        return Result.PUBLISHED;
    }

    /** Ends the CLI's request of a switchover this settler finished or gave up, so that the CLI stops waiting. */
    private void report(OperationRecord op, String state, String message) {
        if (!op.kind().equals("switchover")) {
            return;
        }
        try {
            Optional<ClusterRegistry.Request> request = context.registry().findRequest(op.id());
            if (request.isPresent() && !request.get().report().isFinished()) {
                context.registry()
                        .updateRequest(
                                request.get().path(),
                                request.get()
                                        .report()
                                        .with(
                                                state,
                                                message,
                                                request.get().report().steps()));
            }
        } catch (Exception e) {
            log.warn(
                    "[{}] could not report the end of switchover {} to its request: {}",
                    context.cluster().name(),
                    op.id(),
                    e.toString());
        }
    }

    private void waiting(String why) {
        if (!why.equals(lastWait)) {
            log.warn("[{}] {}", context.cluster().name(), why);
            context.events().emit(ClusterEvent.Kind.PROMOTION_PENDING, null, why);
        }
        lastWait = why;
    }

    private void unfence(NodeConfig node) {
        try (Connection c = context.dialect().connect(node, ADMIN_TIMEOUT)) {
            context.dialect().unfence(c);
            context.events()
                    .emit(
                            ClusterEvent.Kind.UNFENCED,
                            node.id(),
                            "published primary " + node.id()
                                    + " was read-only (an operation stopped half-way): writable again");
        } catch (Exception e) {
            log.warn(
                    "[{}] could not make the published primary {} writable: {}",
                    context.cluster().name(),
                    node.id(),
                    SqlFailures.describe(e, context.cluster().password()));
        }
    }
}
