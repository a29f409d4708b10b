package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a new leader does with an operation a stopped leader left half-way, on a real ZooKeeper. */
class OperationSettlerTest {
    private EngineFixture fixture;
    private ClusterRegistry registry;
    private ClusterMonitor monitor;
    private FakeDialect dialect;
    private CuratorFramework client;
    private OperationSettler settler;

    @BeforeEach
    void start() throws Exception {
        fixture = new EngineFixture();
        registry = fixture.registry;
        monitor = fixture.monitor;
        dialect = fixture.dialect;
        client = fixture.client;
        settler = new OperationSettler(fixture.context);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    @Test
    void finishesAFailoverWhoseCandidateWasPromotedButNotPublished() throws Exception {
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        fixture.writeOperation(OperationRecord.start("failover", "op1", "pg1", 1, Instant.EPOCH)
                .promoting("pg2", null));
        var topology = monitor.probeAll();
        assertThat(settler.settle(topology)).isEqualTo(OperationSettler.Result.PUBLISHED);
        PrimaryRecord now = registry.readPrimary().orElseThrow().value();
        assertThat(now.nodeId()).isEqualTo("pg2");
        assertThat(now.epoch()).isEqualTo(2);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("succeeded");
    }

    @Test
    void aPendingPromotionIsNotGivenUpWhenThePrimaryRecordIsMissing() throws Exception {
        fixture.writeOperation(OperationRecord.start("failover", "op3", "pg1", 1, Instant.EPOCH)
                .promoting("pg2", null));
        client.delete().forPath(dev.baton.registry.RegistryPaths.primary("orders"));
        var topology = monitor.probeAll();
        assertThat(settler.settle(topology)).isEqualTo(OperationSettler.Result.WAITING);
        assertThat(registry.readOperation())
                .as("the irrevocable step stays recorded")
                .get()
                .extracting(OperationRecord::toNode)
                .isEqualTo("pg2");
    }

    @Test
    void givesBackTheClusterToTheOldPrimaryWhenASwitchoverStoppedAfterItsFence() throws Exception {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, true));
        fixture.writeOperation(OperationRecord.start("switchover", "op2", "pg1", 1, Instant.EPOCH)
                .at(OperationRecord.FENCED, "pg2"));
        var topology = monitor.probeAll();
        assertThat(settler.settle(topology)).isEqualTo(OperationSettler.Result.SETTLED);
        assertThat(dialect.actions).containsExactly("unfence pg1");
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(1);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(settler.settle(monitor.probeAll()))
                .as("nothing left to settle")
                .isEqualTo(OperationSettler.Result.NOTHING);
    }

    @Test
    void leavesAHealthyClusterAlone() throws Exception {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        assertThat(settler.settle(monitor.probeAll())).isEqualTo(OperationSettler.Result.NOTHING);
        assertThat(dialect.actions).isEmpty();
    }

    @Test
    void fencesAnOldPrimaryThatCameBackWritableBeforeItPublishesTheInterruptedFailover() throws Exception {
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        fixture.writeOperation(OperationRecord.start("failover", "op3", "pg1", 1, Instant.EPOCH)
                .promoting("pg2", null));
        java.util.List<String> publishedAtFence = new java.util.concurrent.CopyOnWriteArrayList<>();
        dialect.onFence = () -> {
            try {
                publishedAtFence.add(
                        registry.readPrimary().orElseThrow().value().nodeId());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        assertThat(settler.settle(monitor.probeAll())).isEqualTo(OperationSettler.Result.PUBLISHED);
        assertThat(dialect.actions).containsExactly("fence pg1", "after-promotion");
        assertThat(publishedAtFence)
                .as("the record still named pg1 when pg1 was fenced")
                .containsExactly("pg1");
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
    }
}
