package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.NodeRole;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;

/**
 * A real ZooKeeper and a {@link FakeDialect} cluster pg1 (dead primary, epoch 1), pg2 (replica at 100) and pg3
 * (replica at 90), with the context the engines run in. Closing it stops everything.
 */
final class EngineFixture implements AutoCloseable {
    final EmbeddedZooKeeper zk;
    final CuratorFramework client;
    final ClusterRegistry registry;
    final ClusterMonitor monitor;
    final FakeDialect dialect = new FakeDialect();
    final ClusterContext context;

    EngineFixture() throws Exception {
        this("");
    }

    /** {@code extra}: more cluster keys, each line indented by four spaces (hooks, fenceCommand, ...). */
    EngineFixture(String extra) throws Exception {
        zk = EmbeddedZooKeeper.start();
        client = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        ClusterConfig cluster = new ConfigLoader(name -> null)
                .parse(
                        """
                        zookeeper: { connect: "127.0.0.1:1" }
                        clusters:
                          - name: orders
                            dialect: postgresql
                            user: baton
                        """
                                + extra
                                + """
                            nodes:
                              - { id: pg1, host: h, port: 1 }
                              - { id: pg2, host: h, port: 2 }
                              - { id: pg3, host: h, port: 3 }
                        """,
                        "test")
                .clusters()
                .get(0);
        registry = new ClusterRegistry(client, "orders");
        monitor = new ClusterMonitor(cluster, dialect, Clock.systemUTC());
        context = new ClusterContext(
                cluster,
                dialect,
                registry,
                monitor,
                new ClusterLock(client, RegistryPaths.lock("orders")),
                () -> true,
                new EventSink("orders", e -> {}, Clock.systemUTC()),
                Clock.systemUTC(),
                new Hooks(cluster, registry, Clock.systemUTC()));
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 0, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true));
        registry.publishFirst(new PrimaryRecord("orders", "pg1", "h", 1, "postgresql", 1, Instant.EPOCH));
    }

    /** pg1 a healthy primary at h:1, pg2 (at 100) and pg3 (at 90) replicas streaming from it. */
    void healthyCluster() {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, true, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, true, true, "h:1"));
    }

    /** A started supervisor of this cluster (id {@code o1}) reporting its events to {@code events}. */
    dev.baton.orchestrator.ClusterSupervisor supervise(java.util.List<dev.baton.orchestrator.ClusterEvent> events)
            throws Exception {
        return supervise(events, Clock.systemUTC());
    }

    /** The same with {@code clock} as the supervisor's wall clock. */
    dev.baton.orchestrator.ClusterSupervisor supervise(
            java.util.List<dev.baton.orchestrator.ClusterEvent> events, Clock clock) throws Exception {
        return supervise(events::add, clock);
    }

    /** A started supervisor reporting to {@code listener}: its events and every round's observations. */
    dev.baton.orchestrator.ClusterSupervisor supervise(
            dev.baton.orchestrator.ClusterEvent.Listener listener, Clock clock) throws Exception {
        var supervisor =
                new dev.baton.orchestrator.ClusterSupervisor(context.cluster(), dialect, client, "o1", listener, clock);
        supervisor.start();
        return supervisor;
    }

    /** Waits until the supervisor published a state for every node: it leads and has probed. */
    void awaitNodeStates() {
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> registry.readNodeStates().size() == 3);
    }

    /** Writes an operation record as a leader holding the cluster lock would (the lock is released after). */
    void writeOperation(dev.baton.registry.OperationRecord op) throws Exception {
        context.lock().acquire();
        try {
            registry.writeOperation(op, context.lock().heldPath());
        } finally {
            context.lock().release();
        }
    }

    @Override
    public void close() throws Exception {
        monitor.close();
        client.close();
        zk.close();
    }
}
