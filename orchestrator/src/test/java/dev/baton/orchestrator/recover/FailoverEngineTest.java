package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.detect.Verdict;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The failover engine's decisions on a real ZooKeeper with a hand-written dialect: what it does when it loses the
 * race for the primary record, when the race was only apparent, and when the candidate cannot catch up.
 */
class FailoverEngineTest {
    private EngineFixture fixture;
    private ClusterRegistry registry;
    private ClusterMonitor monitor;
    private FakeDialect dialect;
    private CuratorFramework client;
    private FailoverEngine engine;

    @BeforeEach
    void start() throws Exception {
        fixture = new EngineFixture();
        registry = fixture.registry;
        monitor = fixture.monitor;
        dialect = fixture.dialect;
        client = fixture.client;
        engine = new FailoverEngine(fixture.context);
    }

    @AfterEach
    void stop() throws Exception {
        fixture.close();
    }

    private Optional<FailoverEngine.Outcome> failover() throws Exception {
        Versioned<PrimaryRecord> seen = registry.readPrimary().orElseThrow();
        return engine.failover(
                seen,
                new dev.baton.orchestrator.Fixtures.Pos(1, 100),
                Set.of(),
                null,
                t -> new Verdict.PrimaryDead("pg1", "test", null),
                Instant.now());
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
    void aCrashedPrimaryThatCameBackWritableIsFencedBeforeTheNewOneIsPublished() throws Exception {
        // A service manager restarted it while pg2 was promoting.
        dialect.onPromote =
                () -> dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        assertThat(failover()).isPresent();
        assertThat(dialect.actions).containsSubsequence("promote pg2", "fence pg1", "after-promotion");
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
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

    @Test
    void aPromotionSlowerThanEveryTimeoutStillGivesExactlyOnePromotedNode() throws Exception {
        dialect.slowPromotion.add("pg2");
        assertThat(failover()).isEmpty();
        assertThat(registry.readOperation().orElseThrow().promoting()).isTrue();
        assertThat(registry.readOperation().orElseThrow().toNode()).isEqualTo("pg2");
        // Later rounds: the primary is still dead, but no other node is promoted while pg2 may still finish.
        assertThat(failover()).isEmpty();
        OperationSettler settler = new OperationSettler(fixture.context);
        assertThat(settler.settle(monitor.probeAll())).isEqualTo(OperationSettler.Result.WAITING);
        dialect.nodes.put("pg2", new FakeDialect.Node(false, dev.baton.registry.NodeRole.UNKNOWN, 100, false, false));
        assertThat(settler.settle(monitor.probeAll()))
                .as("unreachable: still waited for")
                .isEqualTo(OperationSettler.Result.WAITING);
        assertThat(failover()).isEmpty();
        dialect.nodes.put("pg2", new FakeDialect.Node(true, dev.baton.registry.NodeRole.REPLICA, 100, false, true));
        dialect.finishPromotion("pg2");
        assertThat(settler.settle(monitor.probeAll())).isEqualTo(OperationSettler.Result.PUBLISHED);
        assertThat(registry.readPrimary().orElseThrow().value().nodeId()).isEqualTo("pg2");
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(2);
        assertThat(registry.readOperation()).isEmpty();
        assertThat(dialect.actions)
                .filteredOn(a -> a.startsWith("promote"))
                .allMatch(a -> a.equals("promote pg2"), "only pg2 was ever asked to promote");
        assertThat(dialect.actions).contains("after-promotion");
    }

    @Test
    void aLeaderWhoseSessionExpiresDuringPromotionPublishesNothingAndLeavesTheOperationToItsSuccessor()
            throws Exception {
        dialect.onPromote = () -> {
            try {
                client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
                org.awaitility.Awaitility.await()
                        .atMost(java.time.Duration.ofSeconds(20))
                        .until(() -> client.getZookeeperClient().isConnected()
                                && client.getChildren()
                                        .forPath(RegistryPaths.lock("orders"))
                                        .isEmpty());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        assertThat(failover()).isEmpty();
        assertThat(registry.readPrimary().orElseThrow().value().epoch()).isEqualTo(1);
        assertThat(registry.readOperation().orElseThrow().toNode())
                .as("the promotion stays recorded for the next leader to finish")
                .isEqualTo("pg2");
        assertThat(dialect.actions).containsExactly("promote pg2");
    }

    @Test
    void aRefusedFailoverIsRecordedOncePerReasonNotOncePerRound() throws Exception {
        Versioned<PrimaryRecord> seen = registry.readPrimary().orElseThrow();
        for (int i = 0; i < 3; i++) {
            engine.failover(
                    seen,
                    new dev.baton.orchestrator.Fixtures.Pos(1, 100),
                    Set.of("pg2", "pg3"),
                    null,
                    t -> new Verdict.PrimaryDead("pg1", "test", null),
                    Instant.now());
        }
        assertThat(registry.readHistory()).extracting(HistoryEntry::outcome).containsExactly("refused");
        assertThat(registry.readOperation()).isEmpty();
        assertThat(dialect.actions).isEmpty();
    }
}
