package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.AgentProcess;
import dev.baton.sandbox.SandboxNode;
import dev.baton.sandbox.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The orchestrator with a {@code baton agent} process beside every node, on PostgreSQL at server defaults: the
 * agent's report of a death is taken as proof, an agent that dies alone changes nothing, and an agent cut off from
 * ZooKeeper fences its own primary before the orchestrator replaces it.
 */
class AgentFailoverTest {
    private final List<ClusterEvent> events = new CopyOnWriteArrayList<>();

    private boolean said(ClusterEvent.Kind kind, String text) {
        return events.stream().anyMatch(e -> e.kind() == kind && e.message().contains(text));
    }

    @Test
    void aCrashTheAgentSawIsFailedOverOnItsReportWithoutHoldingTheWrappers() throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare("postgresql", step -> {})) {
            PrimaryRecord first = s.startOrchestratorAndApplication(events::add, Duration.ofSeconds(30));
            s.startAgents("");
            try (ClusterProbe probe = new ClusterProbe(s);
                    Writer writer = new Writer(s.dataSource(), "postgresql", 100).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 50);
                s.node(first.nodeId()).kill();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> probe.primaryRecord().orElseThrow().epoch() == first.epoch() + 1);
                long acknowledged = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= acknowledged + 50);
                assertThat(said(ClusterEvent.Kind.PRIMARY_DEAD, "its agent reports the server exited"))
                        .as("the death was reported by the agent: %s", events)
                        .isTrue();
                assertThat(said(ClusterEvent.Kind.PRIMARY_DEAD, "wrappers told to stop using it"))
                        .as("no hold: the agent's report is proof on its own")
                        .isFalse();
                EndState end = EndState.read(s.cluster(), first.nodeId());
                assertThat(end.promoted()).isEqualTo(1);
                assertThat(end.oneWritablePrimary()).isTrue();
            }
        }
    }

    @Test
    void anAgentThatDiesAloneIsNoFailover() throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare("postgresql", step -> {})) {
            PrimaryRecord first = s.startOrchestratorAndApplication(events::add, Duration.ofSeconds(30));
            SandboxNode primary = s.node(first.nodeId());
            AgentProcess agent = s.startAgent(primary, s.zooKeeperConnect(), "");
            try (ClusterProbe probe = new ClusterProbe(s);
                    Writer writer = new Writer(s.dataSource(), "postgresql", 100).start()) {
                agent.kill();
                // Its session (4 s) expires, and its record with it; the primary goes on as before.
                await().pollDelay(Duration.ofSeconds(8))
                        .atMost(Duration.ofSeconds(9))
                        .until(() -> true);
                assertThat(probe.primaryRecord().orElseThrow().epoch()).isEqualTo(first.epoch());
                assertThat(primary.isRunning()).isTrue();
                assertThat(writer.failedCount()).isZero();
                assertThat(events).noneMatch(e -> e.kind() == ClusterEvent.Kind.PRIMARY_DEAD);
            }
        }
    }

    @Test
    void anAgentCutOffFromZooKeeperFencesItsPrimaryBeforeTheOrchestratorReplacesIt() throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare("postgresql", step -> {})) {
            PrimaryRecord first = s.startOrchestratorAndApplication(events::add, Duration.ofSeconds(30));
            SandboxNode primary = s.node(first.nodeId());
            TcpProxy agentLink = new TcpProxy("127.0.0.1", s.zooKeeper().port());
            try (agentLink;
                    ClusterProbe probe = new ClusterProbe(s);
                    Writer writer = new Writer(s.dataSource(), "postgresql", 100).start()) {
                s.startAgent(primary, "127.0.0.1:" + agentLink.port(), "");
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 50);
                agentLink.blackhole();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> probe.primaryRecord().orElseThrow().epoch() == first.epoch() + 1);
                // Killed by its own agent, which could not renew its lease: nothing can commit there.
                assertThat(primary.isRunning()).isFalse();
                long acknowledged = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= acknowledged + 50);
                assertThat(said(ClusterEvent.Kind.HOLD_ACKNOWLEDGED, "did not acknowledge"))
                        .as("the orchestrator waited out the agent's lease: %s", events)
                        .isTrue();
                EndState end = EndState.read(s.cluster(), first.nodeId());
                assertThat(end.promoted()).isEqualTo(1);
                assertThat(end.oneWritablePrimary()).isTrue();
            }
        }
    }
}
