package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles what a leader left behind when it stopped in the middle of an operation, and keeps the published
 * primary writable:
 *
 * <ul>
 *   <li>a failover whose candidate was promoted but not published is finished (published with epoch + 1);
 *   <li>any other interrupted operation is given up; its promoted-but-unpublished node, if any, is then fenced by
 *       the supervisor like every writable node that is not the published primary;
 *   <li>a published primary left read-only (a switchover interrupted after its fence) is made writable again.
 * </ul>
 *
 * Runs only while it can take the cluster lock at once, so it never interferes with a running operation.
 */
public final class OperationSettler {
    private static final Logger log = LoggerFactory.getLogger(OperationSettler.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(3);

    private final ClusterContext context;

    public OperationSettler(ClusterContext context) {
        this.context = context;
    }

    /** True when there may be something to settle (cheap: one ZooKeeper read). */
    public boolean needed(Topology topology, Optional<Versioned<PrimaryRecord>> record) throws Exception {
        return context.registry().readOperation().isPresent()
                || record.flatMap(r -> topology.node(r.value().nodeId()))
                        .filter(n -> n.isPrimary() && n.readOnly())
                        .isPresent();
    }

    public void settle(Topology topology) {
        ClusterRegistry registry = context.registry();
        boolean locked = false;
        try {
            if (!context.mayAct().getAsBoolean() || !context.lock().acquire(100, TimeUnit.MILLISECONDS)) {
                return; // an operation is running somewhere: it settles itself
            }
            locked = true;
            Optional<OperationRecord> op = registry.readOperation();
            Optional<Versioned<PrimaryRecord>> record = registry.readPrimary();
            if (op.isPresent() && record.isPresent()) {
                settleOperation(op.get(), record.get(), topology);
            }
            registry.clearOperation();
            Optional<Versioned<PrimaryRecord>> now = registry.readPrimary();
            if (now.isPresent() && context.mayAct().getAsBoolean()) {
                Optional<NodeObservation> primary =
                        topology.node(now.get().value().nodeId());
                if (primary.isPresent()
                        && primary.get().isPrimary()
                        && primary.get().readOnly()) {
                    unfence(primary.get().node());
                }
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn(
                    "[{}] settling an interrupted operation failed: {}",
                    context.cluster().name(),
                    SqlFailures.describe(e, context.cluster().password()));
        } finally {
            if (locked) {
                try {
                    context.lock().release();
                } catch (Exception e) {
                    log.warn("releasing the cluster lock failed; it goes with the ZooKeeper session: {}", e.toString());
                }
            }
        }
    }

    private void settleOperation(OperationRecord op, Versioned<PrimaryRecord> record, Topology topology)
            throws Exception {
        String name = context.cluster().name();
        if (record.value().epoch() > op.epoch()) {
            log.info(
                    "[{}] {} {} had published epoch {} before its leader stopped",
                    name,
                    op.kind(),
                    op.id(),
                    record.value().epoch());
            return;
        }
        Optional<NodeObservation> promoted = Optional.ofNullable(op.toNode()).flatMap(topology::node);
        if (op.kind().equals("failover")
                && promoted.isPresent()
                && promoted.get().isPrimary()
                && !promoted.get().readOnly()
                && record.value().nodeId().equals(op.fromNode())) {
            NodeConfig to = promoted.get().node();
            PrimaryRecord next = record.value()
                    .successor(to.id(), to.host(), to.port(), context.clock().instant());
            if (context.registry().publishAfterPromotion(next, record.version(), Duration.ofSeconds(5))
                    == ClusterRegistry.Publication.PUBLISHED) {
                context.events()
                        .emit(
                                ClusterEvent.Kind.PUBLISHED,
                                to.id(),
                                "finished failover " + op.id() + " of a stopped leader: published " + to.id()
                                        + " as primary, epoch " + next.epoch());
                context.registry()
                        .appendHistory(new HistoryEntry(
                                op.id(),
                                "failover",
                                name,
                                op.fromNode(),
                                to.id(),
                                next.epoch(),
                                "succeeded",
                                "finished by a new leader after the old one stopped between promotion and publication",
                                -1,
                                context.dialect().distanceUnit(),
                                op.startedAt(),
                                context.clock().instant(),
                                List.of(new HistoryEntry.Step(
                                        "publish", 0, "epoch " + next.epoch() + " by the new leader"))));
            }
            return;
        }
        log.warn(
                "[{}] {} {} from {} was interrupted before it published anything: given up",
                name,
                op.kind(),
                op.id(),
                op.fromNode());
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
