package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.ClusterSupervisor;
import dev.baton.registry.NodeRole;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The supervisor's rounds on a real ZooKeeper with a hand-written dialect: what it repairs on its own. */
class SupervisorRepairTest {
    private EngineFixture fixture;
    private FakeDialect dialect;
    private ClusterSupervisor supervisor;
    private final List<ClusterEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        fixture = new EngineFixture();
        dialect = fixture.dialect;
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, true, true, "h:1"));
    }

    @AfterEach
    void stop() throws Exception {
        if (supervisor != null) {
            supervisor.close();
        }
        fixture.close();
    }

    private void supervise() throws Exception {
        supervisor = fixture.supervise(events);
    }

    @Test
    void aPrimaryRecordDeletedByHandIsPublishedAgainAboveEveryEpochSeen() throws Exception {
        supervise();
        fixture.awaitNodeStates();
        fixture.client.delete().forPath(dev.baton.registry.RegistryPaths.primary("orders"));
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> fixture.registry.readPrimary().isPresent());
        dev.baton.registry.PrimaryRecord again =
                fixture.registry.readPrimary().orElseThrow().value();
        assertThat(again.nodeId()).isEqualTo("pg1");
        assertThat(again.epoch())
                .as("an epoch 1 would be ignored by every wrapper")
                .isEqualTo(2);
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
    }

    @Test
    void aReplicaLeftOnTheOldPrimaryByAFailedRepointIsRepointedByTheNextRounds() throws Exception {
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 100, true, true, "h:9"));
        dialect.failRepointOnce.add("pg3");
        supervise();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(dialect.actions)
                .containsSubsequence("repoint pg3 failed", "repoint pg3 to pg1"));
        assertThat(dialect.actions).doesNotContain("repoint pg2 to pg1").noneMatch(a -> a.startsWith("promote"));
        // Once it follows the primary it counts as evidence again: a dead primary is confirmed by both replicas.
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true, "h:1"));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(
                        fixture.registry.readPrimary().orElseThrow().value().nodeId())
                .isEqualTo("pg2"));
    }

    @Test
    void aReplicaThatHoldsHistoryThePrimaryLacksIsReportedNotRepointed() throws Exception {
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 120, true, true, "h:9"));
        dialect.diverged.add("pg3");
        supervise();
        await().atMost(Duration.ofSeconds(15))
                .until(() -> events.stream().anyMatch(e -> e.kind() == ClusterEvent.Kind.REPLICA_DIVERGED));
        await().atMost(Duration.ofSeconds(5)).until(() -> fixture.registry.readNodeStates().stream()
                .anyMatch(s -> s.nodeId().equals("pg3") && s.needsRejoin()));
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("repoint pg3"));
    }

    @Test
    void aFailoverTheServersRefuseBacksOffAndIsRecordedOnce() throws Exception {
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, true, true, "h:1"));
        dialect.refusePromotion.add("pg2");
        dialect.refusePromotion.add("pg3");
        supervise();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.registry.readNodeStates().size() == 3);
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true, "h:1"));
        await().atMost(Duration.ofSeconds(5)).until(() -> dialect.actions.contains("promote pg2"));
        Thread.sleep(12_000); // a while of a dead primary whose failover the servers refuse: measure, not wait
        long attempts =
                dialect.actions.stream().filter(a -> a.startsWith("promote")).count();
        assertThat(attempts)
                .as("attempts in ~12 s with a delay doubling from 500 ms (0.5, 1, 2, 4, 8 s)")
                .isBetween(2L, 6L);
        assertThat(fixture.registry.readHistory())
                .as("one history entry for one reason")
                .hasSize(1)
                .allSatisfy(h -> assertThat(h.outcome()).isEqualTo("failed"));
        assertThat(fixture.registry.readOperation())
                .as("a refused promotion is not waited for")
                .isEmpty();
        assertThat(fixture.registry.readPrimary().orElseThrow().value().nodeId())
                .isEqualTo("pg1");
    }

    @Test
    void aSecondSwitchoverAskedForWhileTheFirstIsQueuedIsRefusedWithTheFirstsId() throws Exception {
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 100, true, true, "h:1"));
        String first = fixture.registry.createRequest(dev.baton.registry.OperationReport.request(
                "first", "switchover", "pg2", false, java.time.Instant.now()));
        String second = fixture.registry.createRequest(dev.baton.registry.OperationReport.request(
                "second", "switchover", "pg3", false, java.time.Instant.now()));
        supervise();
        await().atMost(Duration.ofSeconds(15)).until(() -> fixture.registry
                .readRequest(second)
                .orElseThrow()
                .report()
                .isFinished());
        var refused = fixture.registry.readRequest(second).orElseThrow().report();
        assertThat(refused.state()).isEqualTo("refused");
        assertThat(refused.message()).contains("switchover first was queued or running");
        assertThat(fixture.registry.readRequest(first).orElseThrow().report().state())
                .isEqualTo("succeeded");
        assertThat(dialect.actions).contains("promote pg2").doesNotContain("promote pg3");
        assertThat(fixture.registry.readPrimary().orElseThrow().value().nodeId())
                .isEqualTo("pg2");
    }
}
