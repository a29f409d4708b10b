package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.Fixtures;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.registry.NodeRole;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hand-written stand-in for a database family: each node is a role and a position the test sets, and every
 * action the engines take is recorded. Used where the point is the engines' decisions, not a database.
 */
final class FakeDialect implements Dialect {
    record Node(boolean up, NodeRole role, long position, boolean streaming, boolean readOnly, String upstream) {
        Node(boolean up, NodeRole role, long position, boolean streaming, boolean readOnly) {
            this(up, role, position, streaming, readOnly, null);
        }
    }

    final Map<String, Node> nodes = new ConcurrentHashMap<>();
    final List<String> actions = new CopyOnWriteArrayList<>();
    volatile boolean catchesUp = true;
    volatile Runnable onPromote = () -> {};
    volatile Runnable onFence = () -> {};
    /** Repoints that fail (once each) before they work. */
    final java.util.Set<String> failRepointOnce = ConcurrentHashMap.newKeySet();
    /** Down nodes that do not refuse but never answer (a hung server, a partition): their probes time out. */
    final java.util.Set<String> hung = ConcurrentHashMap.newKeySet();
    /** Nodes whose server refuses to promote (the orchestrator's user lacks the privilege). */
    final java.util.Set<String> refusePromotion = ConcurrentHashMap.newKeySet();
    /** Nodes whose promotion is requested but does not finish (as a server stuck in recovery would). */
    final java.util.Set<String> slowPromotion = ConcurrentHashMap.newKeySet();
    /** Replicas that hold history their primary lacks. */
    final java.util.Set<String> diverged = ConcurrentHashMap.newKeySet();

    @Override
    public String key() {
        return "postgresql";
    }

    @Override
    public Connection connect(NodeConfig node, Duration timeout) throws SQLException {
        if (!nodes.get(node.id()).up()) {
            throw new SQLException("Connection to " + node.address() + " refused", "08001");
        }
        return (Connection) Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {Connection.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "toString" -> node.id();
                    case "isClosed" -> false;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> null;
                });
    }

    @Override
    public NodeObservation observe(Connection connection, NodeConfig node, Instant now) throws SQLException {
        Node n = nodes.get(node.id());
        if (!n.up()) {
            return hung.contains(node.id())
                    ? NodeObservation.unreachable(node, now, FailureKind.TIMEOUT, "no answer within 400 ms")
                    : NodeObservation.unreachable(node, now, FailureKind.CONNECTION, "refused");
        }
        Fixtures.Pos p = new Fixtures.Pos(1, n.position());
        return new NodeObservation(
                node,
                now,
                true,
                null,
                null,
                n.role(),
                1,
                p,
                p,
                n.streaming(),
                n.upstream(),
                0,
                n.readOnly() || n.role() == NodeRole.REPLICA,
                true);
    }

    @Override
    public int compare(Position a, Position b) {
        return Fixtures.ORDER.compare(a, b);
    }

    @Override
    public long distance(Position ahead, Position behind) {
        return Fixtures.ORDER.distance(ahead, behind);
    }

    @Override
    public boolean awaitApplied(Connection replica, Instant deadline) {
        return catchesUp;
    }

    @Override
    public void promote(Connection replica, NodeConfig node, Duration timeout) throws SQLException {
        actions.add("promote " + node.id());
        if (refusePromotion.contains(node.id())) {
            throw new dev.baton.orchestrator.dialect.PromotionRefusedException(
                    node.id() + " refused to promote: permission denied to execute pg_promote",
                    new SQLException("permission denied for function pg_promote", "42501"));
        }
        if (slowPromotion.contains(node.id())) {
            throw new SQLException("promotion of " + node.id() + " was requested but had not finished after "
                    + timeout.toMillis() + " ms; it may still finish");
        }
        finishPromotion(node.id());
        onPromote.run();
    }

    /** The requested promotion of {@code id} ends: it runs as a writable primary. */
    void finishPromotion(String id) {
        slowPromotion.remove(id);
        Node n = nodes.get(id);
        nodes.put(id, new Node(true, NodeRole.PRIMARY, n.position(), false, false));
    }

    @Override
    public void afterPromotion(Connection primary, List<NodeConfig> replicas) {
        actions.add("after-promotion");
    }

    @Override
    public void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser)
            throws SQLException {
        if (failRepointOnce.remove(node.id())) {
            actions.add("repoint " + node.id() + " failed");
            throw new SQLException("could not reload the configuration of " + node.id(), "57P03");
        }
        actions.add("repoint " + node.id() + " to " + primary.id());
        Node n = nodes.get(node.id());
        nodes.put(node.id(), new Node(n.up(), n.role(), n.position(), n.streaming(), n.readOnly(), primary.address()));
    }

    @Override
    public void fence(Connection node, Duration drain) {
        onFence.run();
        actions.add("fence " + node);
        setReadOnly(node.toString(), true);
    }

    @Override
    public Position currentPosition(Connection primary) {
        return new Fixtures.Pos(1, nodes.get(primary.toString()).position());
    }

    @Override
    public boolean awaitPosition(Connection replica, Position position, Instant deadline) {
        return catchesUp;
    }

    @Override
    public void rejoin(Connection connection, NodeConfig node, NodeConfig primary) {
        actions.add("rejoin " + node.id() + " to " + primary.id());
    }

    @Override
    public boolean canFollow(NodeObservation replica, NodeObservation primary, String fork) {
        return !diverged.contains(replica.id());
    }

    @Override
    public void unfence(Connection node) {
        actions.add("unfence " + node);
        setReadOnly(node.toString(), false);
    }

    private void setReadOnly(String id, boolean readOnly) {
        Node n = nodes.get(id);
        nodes.put(id, new Node(n.up(), n.role(), n.position(), n.streaming(), readOnly, n.upstream()));
    }
}
