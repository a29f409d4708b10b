package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a new leader does with an operation a stopped leader left half-way, on a real ZooKeeper. */
class OperationSettlerTest {
    private TestingServer zk;
    private CuratorFramework client;
    private ClusterRegistry registry;
    private ClusterMonitor monitor;
    private final FakeDialect dialect = new FakeDialect();
    private OperationSettler settler;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        client = RegistryClient.start(zk.getConnectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        ClusterConfig cluster = new ConfigLoader(name -> null)
                .parse(
                        """
                        zookeeper: { connect: "127.0.0.1:1" }
                        clusters:
                          - name: orders
                            dialect: postgresql
                            user: baton
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
        settler = new OperationSettler(new ClusterContext(
                cluster,
                dialect,
                registry,
                monitor,
                new InterProcessMutex(client, RegistryPaths.lock("orders")),
                () -> true,
                new EventSink("orders", e -> {}, Clock.systemUTC()),
                Clock.systemUTC()));
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 0, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true));
        registry.publishFirst(new PrimaryRecord("orders", "pg1", "h", 1, "postgresql", 1, Instant.EPOCH));
    }

    @AfterEach
    void stop() throws Exception {
        monitor.close();
        client.close();
        zk.close();
    }

    @Test
    void finishesAFailoverWhoseCandidateWasPromotedButNotPublished() throws Exception {
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        registry.writeOperation(new OperationRecord("failover", "op1", "pg1", "pg2", 1, Instant.EPOCH));
        var topology = monitor.probeAll();
        assertThat(settler.needed(topology, registry.readPrimary())).isTrue();
        settler.settle(topology);
        PrimaryRecord now = registry.readPrimary().orElseThrow().value();
        assertThat(now.nodeId()).isEqualTo("pg2");
        assertThat(now.epoch()).isEqualTo(2);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("succeeded");
    }

    @Test
    void givesBackTheClusterToTheOldPrimaryWhenASwitchoverStoppedAfterItsFence() throws Exception {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, true));
        registry.writeOperation(new OperationRecord("switchover", "op2", "pg1", "pg2", 1, Instant.EPOCH));
        var topology = monitor.probeAll();
        assertThat(settler.needed(topology, registry.readPrimary())).isTrue();
        settler.settle(topology);
        assertThat(dialect.actions).containsExactly("unfence pg1");
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(1);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(settler.needed(monitor.probeAll(), registry.readPrimary()))
                .as("nothing left to settle")
                .isFalse();
    }

    @Test
    void leavesAHealthyClusterAlone() throws Exception {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        assertThat(settler.needed(monitor.probeAll(), registry.readPrimary())).isFalse();
    }
}
