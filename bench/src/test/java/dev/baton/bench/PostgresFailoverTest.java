package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Failover on a real PostgreSQL primary and two streaming replicas, with writes through the wrapper. */
class PostgresFailoverTest {
    @Test
    void promotesMostAdvancedReplicaWhenPrimaryIsKilled() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("postgresql", step -> {})) {
            FailoverRun run = new FailoverRun(scenario);
            PrimaryRecord first =
                    scenario.startOrchestratorAndApplication(run.listener(e -> {}), Duration.ofSeconds(30));
            assertThat(first.epoch()).isEqualTo(1);
            try (ClusterProbe probe = new ClusterProbe(scenario);
                    Writer writer = new Writer(scenario.dataSource(), "postgresql", 200).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 200);
                // The first replica falls behind; ranking by id alone would pick it, ranking by position must not.
                SandboxNode behind = scenario.cluster().nodes().get(1);
                SandboxNode ahead = scenario.cluster().nodes().get(2);
                probe.stopReceiving(behind);
                long acknowledgedWhileBehind = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> writer.acknowledgedCount() >= acknowledgedWhileBehind + 100);
                long killNanos = System.nanoTime();
                FailoverRun.Result result = run.crashPrimary(writer, Duration.ofSeconds(30));
                assertThat(result.newPrimary()).as("the most advanced replica").isEqualTo(ahead.id());

                // Exactly one survivor was promoted, and it is the one published with epoch + 1.
                SandboxNode oldPrimary = scenario.node(first.nodeId());
                List<SandboxNode> survivors = scenario.cluster().nodes().stream()
                        .filter(n -> !n.id().equals(first.nodeId()))
                        .map(n -> (SandboxNode) n)
                        .toList();
                List<String> promoted = survivors.stream()
                        .filter(n -> !inRecovery(probe, n))
                        .map(SandboxNode::id)
                        .toList();
                assertThat(promoted).containsExactly(result.newPrimary());
                PrimaryRecord after = probe.primaryRecord().orElseThrow();
                assertThat(after.nodeId()).isEqualTo(result.newPrimary());
                assertThat(after.epoch()).isEqualTo(first.epoch() + 1);

                // The other replica now streams from the new primary.
                SandboxNode newPrimary = scenario.node(result.newPrimary());
                String other = survivors.stream()
                        .map(SandboxNode::id)
                        .filter(id -> !id.equals(result.newPrimary()))
                        .findFirst()
                        .orElseThrow();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(probe.queryColumn(
                                newPrimary,
                                "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'"))
                        .contains(other));

                // Writes resume through the same DataSource, on the new primary.
                long acknowledgedAtSwitch = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> writer.acknowledgedCount() >= acknowledgedAtSwitch + 100);
                writer.close();
                assertThat(writer.writes().stream()
                                .filter(Writer.Write::acknowledged)
                                .filter(w ->
                                        w.startNanos() > result.firstWrite().endNanos()))
                        .allSatisfy(w -> assertThat(w.port()).isEqualTo(newPrimary.port()));

                // No acknowledged write that had time to replicate before the crash is lost: what is missing is
                // only the tail acknowledged in the last moments before the kill.
                Set<Long> present = probe.ids(newPrimary);
                long replicationGrace = Duration.ofMillis(500).toNanos();
                List<Writer.Write> lost = writer.writes().stream()
                        .filter(Writer.Write::acknowledged)
                        .filter(w -> !present.contains(w.id()))
                        .toList();
                assertThat(lost).allSatisfy(w -> assertThat(w.endNanos()).isGreaterThan(killNanos - replicationGrace));
                long acknowledgedBeforeKill = writer.writes().stream()
                        .filter(w -> w.acknowledged() && w.endNanos() < killNanos)
                        .count();
                assertThat(acknowledgedBeforeKill).isGreaterThanOrEqualTo(200);

                // The history records the failover with its steps and a data-loss estimate.
                List<HistoryEntry> history = probe.awaitHistory(1);
                HistoryEntry entry = history.get(history.size() - 1);
                assertThat(entry.kind()).isEqualTo("failover");
                assertThat(entry.outcome()).isEqualTo("succeeded");
                assertThat(entry.fromNode()).isEqualTo(first.nodeId());
                assertThat(entry.toNode()).isEqualTo(result.newPrimary());
                assertThat(entry.dataLossBytes()).isGreaterThanOrEqualTo(0);
                assertThat(entry.steps()).extracting(HistoryEntry.Step::name).contains("lock", "promote", "publish");

                // The old primary comes back as a writable primary of epoch 1: it is fenced, never re-published.
                oldPrimary.start();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    assertThat(probe.queryString(oldPrimary, "SHOW default_transaction_read_only"))
                            .isEqualTo("on");
                    assertThat(probe.nodeState(oldPrimary.id()).orElseThrow().needsRejoin())
                            .isTrue();
                });
                assertThat(probe.primaryRecord().orElseThrow().nodeId()).isEqualTo(result.newPrimary());
            }
        }
    }

    @Test
    void doesNotFailOverWhenOnlyTheOrchestratorLosesThePrimary() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("postgresql", step -> {}, true)) {
            List<ClusterEvent> events = new CopyOnWriteArrayList<>();
            PrimaryRecord first = scenario.startOrchestratorAndApplication(events::add, Duration.ofSeconds(30));
            try (ClusterProbe probe = new ClusterProbe(scenario);
                    // other clients still reach the primary and write: its replicas keep receiving
                    AutoCloseable others = probe.keepWriting(scenario.node(first.nodeId()))) {
                scenario.proxy().blackhole();
                // The orchestrator sees the primary as unreachable ...
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                                probe.nodeState(first.nodeId()).orElseThrow().reachable())
                        .isFalse());
                await().atMost(Duration.ofSeconds(10)).until(() -> events.stream()
                        .anyMatch(e -> e.kind() == ClusterEvent.Kind.PRIMARY_UNREACHABLE_BUT_REPLICATING));
                // ... but as the replicas keep streaming from it, nothing is promoted, for many failure thresholds.
                await().during(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(8))
                        .untilAsserted(() -> {
                            assertThat(probe.primaryRecord().orElseThrow().epoch())
                                    .isEqualTo(first.epoch());
                            for (var n : scenario.cluster().nodes()) {
                                if (!n.id().equals(first.nodeId())) {
                                    assertThat(probe.inRecovery(n))
                                            .as(n.id() + " in recovery")
                                            .isTrue();
                                }
                            }
                        });
                assertThat(events.stream().map(ClusterEvent::kind).collect(Collectors.toSet()))
                        .doesNotContain(ClusterEvent.Kind.PROMOTED, ClusterEvent.Kind.FAILOVER_STARTED);
                scenario.proxy().heal();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                                probe.nodeState(first.nodeId()).orElseThrow().reachable())
                        .isTrue());
                assertThat(probe.primaryRecord().orElseThrow()).isEqualTo(first);
            }
        }
    }

    private static boolean inRecovery(ClusterProbe probe, SandboxNode node) {
        try {
            return probe.inRecovery(node);
        } catch (Exception e) {
            throw new AssertionError("cannot ask " + node.id() + " whether it is in recovery", e);
        }
    }
}
