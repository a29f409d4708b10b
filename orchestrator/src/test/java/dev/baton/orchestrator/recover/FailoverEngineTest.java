package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import dev.baton.registry.HistoryEntry;
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
