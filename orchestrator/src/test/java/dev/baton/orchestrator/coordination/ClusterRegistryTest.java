package dev.baton.orchestrator.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.registry.OperationReport;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The versioned writes and request claims that keep two orchestrators from both acting, on a real ZooKeeper. */
class ClusterRegistryTest {
    private TestingServer zk;
    private CuratorFramework client;
    private ClusterRegistry registry;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        client = RegistryClient.start(zk.getConnectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        registry = new ClusterRegistry(client, "orders");
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        zk.close();
    }

    private static PrimaryRecord record(String node, long epoch) {
        return new PrimaryRecord("orders", node, "127.0.0.1", 5432, "postgresql", epoch, Instant.EPOCH);
    }

    @Test
    void ofTwoWritersThatReadTheSameVersionOnlyOneWins() throws Exception {
        registry.publishFirst(record("pg1", 1));
        Versioned<PrimaryRecord> seen = registry.readPrimary().orElseThrow();
        registry.publish(record("pg2", 2), seen.version());
        assertThatThrownBy(() -> registry.publish(record("pg3", 2), seen.version()))
                .isInstanceOf(StaleWriteException.class)
                .hasMessageContaining("epoch 2 not published");
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
        assertThatThrownBy(() -> registry.publishFirst(record("pg9", 1))).isInstanceOf(StaleWriteException.class);
    }

    @Test
    void aLoserWhoseNodeIsNotPublishedLearnsItLostAndAWinnerFoundAfterARetryIsNotALoss() throws Exception {
        registry.publishFirst(record("pg1", 1));
        int version = registry.readPrimary().orElseThrow().version();
        assertThat(registry.publishAfterPromotion(record("pg2", 2), version, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.PUBLISHED);
        // Another orchestrator, same stale version, another node: it lost and must fence its node.
        assertThat(registry.publishAfterPromotion(record("pg3", 2), version, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.LOST);
        // Same stale version, but the record names our node at our epoch (our first attempt landed before the
        // connection was lost): not a loss, nothing to fence.
        assertThat(registry.publishAfterPromotion(record("pg2", 2), version, Duration.ofSeconds(1)))
                .isEqualTo(ClusterRegistry.Publication.PUBLISHED);
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
