package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.ClusterSupervisor;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.NodeRole;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A primary that is silent rather than gone (its probes time out, its replicas receive nothing) may still commit for
 * clients cut off with it: it is replaced only after the fence command succeeded or the wrappers were told to stop
 * using it and their lease ran out. Hooks around failovers: a veto stops one, a slow one blocks nothing.
 */
class UnconfirmedPrimaryTest {
    private EngineFixture fixture;
    private FakeDialect dialect;
    private ClusterSupervisor supervisor;
    private final List<ClusterEvent> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (supervisor != null) {
            supervisor.close();
        }
        fixture.close();
    }

    private void start(String extra) throws Exception {
        fixture = new EngineFixture(extra);
        dialect = fixture.dialect;
        fixture.healthyCluster();
        supervisor = fixture.supervise(events);
        fixture.awaitNodeStates();
    }

    /** The primary stops answering and its replicas, still connected, stop receiving: a hang or a partition. */
    private void hangPrimary() {
        dialect.hung.add("pg1");
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
    }

    /** The primary's process is gone: refused connections, replicas' receivers down. */
    private void killPrimary() {
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true, "h:1"));
    }

    private String publishedNode() throws Exception {
        return fixture.registry.readPrimary().orElseThrow().value().nodeId();
    }

    @Test
    void aSilentPrimaryIsReplacedOnlyAfterTheWrappersWereHeldForTheirLease() throws Exception {
        start("    clientLeaseTimeout: 3s\n");
        hangPrimary();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) != null);
        long heldAt = System.nanoTime();
        HoldRecord hold =
                RegistryJson.read(fixture.client.getData().forPath(RegistryPaths.hold("orders")), HoldRecord.class);
        assertThat(hold.kind()).isEqualTo(HoldRecord.UNCONFIRMED_PRIMARY);
        assertThat(hold.fromNode()).isEqualTo("pg1");
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals("pg2"));
        long waitedMs = (System.nanoTime() - heldAt) / 1_000_000;
        assertThat(waitedMs).as("promoted only after the lease since the hold").isGreaterThanOrEqualTo(2900);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
    }

    @Test
    void aPrimaryThatAnswersAgainIsReleasedAndNotReplaced() throws Exception {
        start("    clientLeaseTimeout: 30s\n");
        hangPrimary();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) != null);
        dialect.hung.remove("pg1");
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 101, false, false));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
        assertThat(publishedNode()).isEqualTo("pg1");
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
    }

    @Test
    void aSucceedingFenceCommandReplacesTheLeaseWait() throws Exception {
        start("    clientLeaseTimeout: 60s\n    fenceCommand: \"test {node} = pg1 && test {port} = 1\"\n");
        hangPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
        assertThat(events).anyMatch(e -> e.message().contains("fence command for pg1: exit 0"));
    }

    @Test
    void aProcessThatIsGoneIsReplacedAtOnceWhateverTheLease() throws Exception {
        start("    clientLeaseTimeout: 60s\n");
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
    }

    @Test
    void aPreFailoverHookThatExitsNonZeroVetoesTheFailover() throws Exception {
        start("    hooks: { preFailover: \"test {newPrimary} != pg2\" }\n");
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> fixture.registry.readHistory().stream()
                .anyMatch(h -> h.outcome().equals("cancelled")));
        HistoryEntry vetoed = fixture.registry.readHistory().get(0);
        assertThat(vetoed.reason()).contains("preFailover hook vetoed").contains("exit 1");
        assertThat(vetoed.steps()).extracting(HistoryEntry.Step::name).contains("hook preFailover");
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
        assertThat(publishedNode()).isEqualTo("pg1");
    }

    @Test
    void aSlowPostFailoverHookBlocksNothingAndIsRecordedWithItsExitStatus() throws Exception {
        start("    hooks: { postFailover: \"sleep 3; echo $BATON_NEW_PRIMARY {oldPrimary}\", timeout: 10s }\n");
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
        // While the hook sleeps, the loop goes on: pg2 dies too and is noticed at once (the hook is not waited for).
        dialect.nodes.put("pg2", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        await().atMost(Duration.ofSeconds(2)).until(() -> events.stream()
                .anyMatch(e -> e.kind() == ClusterEvent.Kind.PRIMARY_SUSPECT && "pg2".equals(e.node())));
        await().atMost(Duration.ofSeconds(10)).until(() -> fixture.registry.readHistory().stream()
                .anyMatch(h -> h.kind().equals("hook")));
        HistoryEntry hook = fixture.registry.readHistory().stream()
                .filter(h -> h.kind().equals("hook"))
                .findFirst()
                .orElseThrow();
        assertThat(hook.outcome()).isEqualTo("succeeded");
        assertThat(hook.reason()).startsWith("postFailover: exit 0 after");
        assertThat(hook.steps().get(0).millis()).isGreaterThanOrEqualTo(2900);
    }
}
