package dev.baton.orchestrator.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.registry.EpochNode;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.OperationReport;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The versioned writes and request claims that keep two orchestrators from both acting, on a real ZooKeeper. */
class ClusterRegistryTest {
    private EmbeddedZooKeeper zk;
    private CuratorFramework client;
    private ClusterRegistry registry;
    private ClusterLock lock;
    private String guard;

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        client = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        registry = new ClusterRegistry(client, "orders");
        lock = new ClusterLock(client, RegistryPaths.lock("orders"));
        lock.acquire();
        guard = lock.heldPath();
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        zk.close();
    }

    @Test
    void aLeaderWhoseSessionExpiredCannotPublishNorRecordProgressHoweverItsRetriesAreTimed() throws Exception {
        registry.publishFirst(record("pg1", 1));
        int version = registry.readPrimary().orElseThrow().version();
        registry.writeOperation(
                OperationRecord.start("failover", "op1", "pg1", 1, Instant.EPOCH)
                        .promoting("pg2", null),
                guard);
        // The session that held the lock expires: ZooKeeper deletes its ephemeral lock node, and another leader may
        // take the lock and settle the operation meanwhile.
        client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .until(() -> client.getZookeeperClient().isConnected()
                        && client.checkExists().forPath(guard) == null);

        assertThatThrownBy(
                        () -> registry.publishAfterPromotion(record("pg2", 2), version, guard, Duration.ofSeconds(5)))
                .isInstanceOf(LostLockException.class)
                .hasMessageContaining("is gone");
        assertThatThrownBy(() -> registry.writeOperation(
                        OperationRecord.start("failover", "op2", "pg1", 1, Instant.EPOCH), guard))
                .isInstanceOf(LostLockException.class);
        assertThatThrownBy(() -> registry.clearOperation(guard)).isInstanceOf(LostLockException.class);
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(1);
        assertThat(registry.readOperation().orElseThrow().toNode()).isEqualTo("pg2");
    }

    @Test
    void publishingDeletesTheOperationRecordInTheSameTransaction() throws Exception {
        registry.publishFirst(record("pg1", 1));
        int version = registry.readPrimary().orElseThrow().version();
        registry.writeOperation(
                OperationRecord.start("failover", "op1", "pg1", 1, Instant.EPOCH)
                        .promoting("pg2", null),
                guard);
        registry.publish(record("pg2", 2), version, guard);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
    }

    @Test
    void malformedHistoryAndNodeStatesAreSkippedNotFatal() throws Exception {
        registry.appendHistory(new dev.baton.registry.HistoryEntry(
                "a",
                "failover",
                "orders",
                "pg1",
                "pg2",
                2,
                "succeeded",
                "r",
                0,
                "bytes",
                Instant.EPOCH,
                Instant.EPOCH,
                java.util.List.of()));
        client.create()
                .creatingParentContainersIfNeeded()
                .forPath(
                        RegistryPaths.history("orders") + "/op-9999999999",
                        "garbage-history".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        client.create().creatingParentContainersIfNeeded().forPath(RegistryPaths.node("orders", "zzz"), new byte[] {1});
        assertThat(registry.readHistory())
                .extracting(dev.baton.registry.HistoryEntry::id)
                .containsExactly("a");
        assertThat(registry.readNodeStates()).isEmpty();
    }

    private static PrimaryRecord record(String node, long epoch) {
        return new PrimaryRecord("orders", node, "127.0.0.1", 5432, "postgresql", epoch, Instant.EPOCH);
    }

    @Test
    void ofTwoWritersThatReadTheSameVersionOnlyOneWins() throws Exception {
        registry.publishFirst(record("pg1", 1));
        Versioned<PrimaryRecord> seen = registry.readPrimary().orElseThrow();
        registry.publish(record("pg2", 2), seen.version(), guard);
        assertThatThrownBy(() -> registry.publish(record("pg3", 2), seen.version(), guard))
                .isInstanceOf(StaleWriteException.class)
                .hasMessageContaining("epoch 2 not published");
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
        assertThatThrownBy(() -> registry.publishFirst(record("pg9", 1))).isInstanceOf(StaleWriteException.class);
    }

    @Test
    void aLoserWhoseNodeIsNotPublishedLearnsItLostAndAWinnerFoundAfterARetryIsNotALoss() throws Exception {
        registry.publishFirst(record("pg1", 1));
        int version = registry.readPrimary().orElseThrow().version();
        assertThat(registry.publishAfterPromotion(record("pg2", 2), version, guard, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.PUBLISHED);
        // Another orchestrator, same stale version, another node: it lost and must fence its node.
        assertThat(registry.publishAfterPromotion(record("pg3", 2), version, guard, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.LOST);
        // Same stale version, but the record names our node at our epoch (our first attempt landed before the
        // connection was lost): not a loss, nothing to fence.
        assertThat(registry.publishAfterPromotion(record("pg2", 2), version, guard, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.PUBLISHED);
    }

    @Test
    void everyPublicationCreatesTheEpochNodeCarryingItsRecordInTheSameTransaction() throws Exception {
        registry.publishFirst(record("pg1", 1));
        registry.publish(record("pg2", 2), registry.readPrimary().orElseThrow().version(), guard);
        assertThat(epochNodeRecords()).containsExactly(record("pg1", 1), record("pg2", 2));

        // a publication that fails writes no epoch node either
        assertThatThrownBy(() -> registry.publish(record("pg3", 3), 0, guard)).isInstanceOf(StaleWriteException.class);
        assertThatThrownBy(() -> registry.publish(record("pg3", 3), 1, "/clusters/orders/lock/gone"))
                .isInstanceOf(LostLockException.class);
        assertThat(epochNodeRecords()).hasSize(2);
    }

    @Test
    void aDeletedEpochsNodeIsCreatedAgainWithoutTakingThePublicationForLost() throws Exception {
        registry.publishFirst(record("pg1", 1));
        client.delete().deletingChildrenIfNeeded().forPath(RegistryPaths.epochs("orders"));

        // this registry believes the node exists: its first attempt fails on the missing parent, which must not be
        // mistaken for a record somebody else changed (that would make the orchestrator fence its promoted node)
        assertThat(registry.publishAfterPromotion(
                        record("pg2", 2), registry.readPrimary().orElseThrow().version(), guard, Duration.ofSeconds(5)))
                .isEqualTo(ClusterRegistry.Publication.PUBLISHED);
        assertThat(registry.readPrimary().orElseThrow().value()).isEqualTo(record("pg2", 2));
        assertThat(epochNodeRecords()).containsExactly(record("pg2", 2));
    }

    @Test
    void aFinishedOperationPrunesAllButTheNewestEpochNodes() throws Exception {
        registry.publishFirst(record("pg1", 1));
        for (int epoch = 2; epoch <= 12; epoch++) {
            registry.publish(
                    record("pg" + epoch, epoch),
                    registry.readPrimary().orElseThrow().version(),
                    guard);
        }
        client.create().forPath(RegistryPaths.epochs("orders") + "/not-an-epoch-node");
        assertThat(epochNodeRecords()).hasSize(12);

        registry.appendHistory(new dev.baton.registry.HistoryEntry(
                "op",
                "failover",
                "orders",
                "pg11",
                "pg12",
                12,
                "succeeded",
                "test",
                0,
                "bytes",
                Instant.EPOCH,
                Instant.EPOCH,
                java.util.List.of()));

        org.awaitility.Awaitility.await() // the deletes run in the background
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(epochNodeRecords())
                        .extracting(PrimaryRecord::epoch)
                        .containsExactly(5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L));
        assertThat(client.checkExists().forPath(RegistryPaths.epochs("orders") + "/not-an-epoch-node"))
                .isNotNull();
    }

    /** The records the epoch nodes carry, by epoch. */
    private java.util.List<PrimaryRecord> epochNodeRecords() throws Exception {
        return client.getChildren().forPath(RegistryPaths.epochs("orders")).stream()
                .filter(name -> EpochNode.epoch(name) >= 0)
                .sorted()
                .map(EpochNode::parse)
                .toList();
    }

    @Test
    void aRequestIsClaimedByOneOrchestratorOnlyAndStaleRequestsExpire() throws Exception {
        String path = registry.createRequest(OperationReport.request("r1", "switchover", "pg2", false, Instant.now()));
        ClusterRegistry.Request pending = registry.nextPendingRequest().orElseThrow();
        assertThat(pending.path()).isEqualTo(path);
        OperationReport running = pending.report()
                .with(OperationReport.RUNNING, "preflight", pending.report().steps());
        assertThat(registry.claim(pending, running)).isTrue();
        assertThat(registry.claim(pending, running))
                .as("the same read cannot claim twice")
                .isFalse();
        assertThat(registry.nextPendingRequest())
                .as("a running request is not handed out again")
                .isEmpty();

        registry.createRequest(OperationReport.request(
                "r2", "switchover", null, false, Instant.now().minus(10, ChronoUnit.MINUTES)));
        assertThat(registry.nextPendingRequest()).isEmpty();
        assertThat(registry.readHistory()).isEmpty();
    }
}
