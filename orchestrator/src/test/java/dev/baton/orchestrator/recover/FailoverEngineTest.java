package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The failover engine's decisions on a real ZooKeeper with a hand-written dialect: what it does when it loses the
 * race for the primary record, when the race was only apparent, and when the candidate cannot catch up.
 */
class FailoverEngineTest {
    private TestingServer zk;
    private CuratorFramework client;
    private ClusterRegistry registry;
    private ClusterMonitor monitor;
    private final FakeDialect dialect = new FakeDialect();
    private FailoverEngine engine;

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
        engine = new FailoverEngine(new ClusterContext(
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

    private Optional<FailoverEngine.Outcome> failover() throws Exception {
        Versioned<PrimaryRecord> seen = registry.readPrimary().orElseThrow();
        return engine.failover(seen, new dev.baton.orchestrator.Fixtures.Pos(1, 100), Set.of(), 3, Instant.now());
    }

    private void competingRecord(String node) {
        try {
            client.setData()
                    .forPath(
                            RegistryPaths.primary("orders"),
                            RegistryJson.write(
                                    new PrimaryRecord("orders", node, "h", 9, "postgresql", 2, Instant.EPOCH)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void promotesAndPublishesTheMostAdvancedReplicaThenRepointsTheOther() throws Exception {
        Optional<FailoverEngine.Outcome> outcome = failover();
        assertThat(outcome).isPresent();
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(2);
        assertThat(dialect.actions).containsExactly("promote pg2", "after-promotion", "repoint pg3 to pg2");
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("succeeded");
        assertThat(registry.readOperation()).isEmpty();
    }

    @Test
    void losingTheRaceToAnotherNodeFencesTheNodeItPromoted() throws Exception {
        dialect.onPromote = () -> competingRecord("pg3");
        assertThat(failover()).isEmpty();
        assertThat(dialect.actions).containsExactly("promote pg2", "fence pg2");
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg3");
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("failed");
    }

    @Test
    void aRecordAlreadyNamingItsNodeIsNotALostRaceAndNothingIsFenced() throws Exception {
        dialect.onPromote = () -> competingRecord("pg2");
        assertThat(failover()).isPresent();
        assertThat(dialect.actions).doesNotContain("fence pg2").contains("promote pg2", "repoint pg3 to pg2");
    }

    @Test
    void aCandidateThatCannotApplyWhatItReceivedIsNotPromoted() throws Exception {
        dialect.catchesUp = false;
        assertThat(failover()).isEmpty();
        assertThat(dialect.actions).isEmpty();
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(1);
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("cancelled");
        assertThat(registry.readOperation()).isEmpty();
    }
}
