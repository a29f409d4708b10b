package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Failover on a real MariaDB primary and two GTID replicas, with writes through the wrapper. */
class MariaDbFailoverTest {
    @Test
    void promotesMostAdvancedReplicaWhenPrimaryIsKilled() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("mariadb", step -> {})) {
            FailoverRun run = new FailoverRun(scenario);
            PrimaryRecord first =
                    scenario.startOrchestratorAndApplication(run.listener(e -> {}), Duration.ofSeconds(30));
            assertThat(first.epoch()).isEqualTo(1);
            MariaDbProbe db = new MariaDbProbe(scenario.cluster());
            List<SandboxNode> survivors = scenario.cluster().nodes().stream()
                    .filter(n -> !n.id().equals(first.nodeId()))
                    .map(n -> (SandboxNode) n)
                    .toList();
            try (ClusterProbe probe = new ClusterProbe(scenario);
                    IoThreadWatch watch = new IoThreadWatch(db, survivors);
                    Writer writer = new Writer(scenario.dataSource(), "mariadb", 200).start()) {
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
                System.out.printf(
                        "MariaDB failover: IO threads noticed the kill after %s ms; detected %d ms, promoted %d ms,"
                                + " published %d ms, first write %d ms, failed writes %d%n",
                        watch.noticedMs(killNanos),
                        result.detectedMs(),
                        result.promotedMs(),
                        result.publishedMs(),
                        result.firstWriteMs(),
                        result.failedWrites());

                // Exactly one survivor was promoted, and it is the one published with epoch + 1.
                SandboxNode oldPrimary = scenario.node(first.nodeId());
                assertThat(survivors.stream().filter(db::isPrimary).map(SandboxNode::id))
                        .containsExactly(result.newPrimary());
                PrimaryRecord after = probe.primaryRecord().orElseThrow();
                assertThat(after.nodeId()).isEqualTo(result.newPrimary());
                assertThat(after.epoch()).isEqualTo(first.epoch() + 1);

                // The other replica now replicates from the new primary.
                SandboxNode newPrimary = scenario.node(result.newPrimary());
                SandboxNode other = survivors.stream()
                        .filter(n -> !n.id().equals(result.newPrimary()))
                        .findFirst()
                        .orElseThrow();
                await().atMost(Duration.ofSeconds(20)).until(() -> db.replicatesFrom(other, newPrimary));
                assertThat(db.readOnly(other)).isTrue();

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

                // Every acknowledged write that had 500 ms to replicate before the crash is on the new primary,
                // and the other replica has all that the new primary has.
                Set<Long> present = probe.ids(newPrimary);
                long replicationGrace = Duration.ofMillis(500).toNanos();
                List<Writer.Write> lost = writer.writes().stream()
                        .filter(Writer.Write::acknowledged)
                        .filter(w -> !present.contains(w.id()))
                        .toList();
                assertThat(lost).allSatisfy(w -> assertThat(w.endNanos()).isGreaterThan(killNanos - replicationGrace));
                assertThat(writer.writes().stream()
                                .filter(w -> w.acknowledged() && w.endNanos() < killNanos)
                                .count())
                        .isGreaterThanOrEqualTo(200);
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertThat(probe.ids(other)).containsAll(present));

                // The history records the failover with its steps and a data-loss estimate (in transactions).
                List<HistoryEntry> history = probe.awaitHistory(1);
                HistoryEntry entry = history.get(history.size() - 1);
                assertThat(entry.kind()).isEqualTo("failover");
                assertThat(entry.outcome()).isEqualTo("succeeded");
                assertThat(entry.fromNode()).isEqualTo(first.nodeId());
                assertThat(entry.toNode()).isEqualTo(result.newPrimary());
                assertThat(entry.dataLossBytes()).isGreaterThanOrEqualTo(0);
                assertThat(entry.steps()).extracting(HistoryEntry.Step::name).contains("lock", "promote", "publish");

                // The old primary comes back writable (its initial role): it is fenced, never re-published.
                oldPrimary.start();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    assertThat(db.readOnly(oldPrimary)).isTrue();
                    assertThat(probe.nodeState(oldPrimary.id()).orElseThrow().needsRejoin())
                            .isTrue();
                });
                assertThat(probe.primaryRecord().orElseThrow().nodeId()).isEqualTo(result.newPrimary());
            }
        }
    }

    @Test
    void doesNotFailOverWhenOnlyTheOrchestratorLosesThePrimary() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("mariadb", step -> {}, true)) {
            List<ClusterEvent> events = new CopyOnWriteArrayList<>();
            PrimaryRecord first = scenario.startOrchestratorAndApplication(events::add, Duration.ofSeconds(30));
            MariaDbProbe db = new MariaDbProbe(scenario.cluster());
            SandboxNode primary = scenario.node(first.nodeId());
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
                // ... but as the replicas' IO threads stay connected to it, nothing is promoted.
                await().during(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(8))
                        .untilAsserted(() -> {
                            assertThat(probe.primaryRecord().orElseThrow().epoch())
                                    .isEqualTo(first.epoch());
                            for (var n : scenario.cluster().nodes()) {
                                if (!n.id().equals(first.nodeId())) {
                                    assertThat(db.replicatesFrom(n, primary))
                                            .as(n.id() + " replicates from " + primary.id())
                                            .isTrue();
                                    assertThat(db.readOnly(n))
                                            .as(n.id() + " read_only")
                                            .isTrue();
                                }
                            }
                        });
                assertThat(db.readOnly(primary)).isFalse();
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

    /**
     * Polls the replicas' IO threads every few milliseconds over open connections and remembers when each first
     * stopped running, so the test can report how long they take to notice a killed primary.
     */
    private static final class IoThreadWatch implements AutoCloseable {
        private final Map<String, Long> stoppedAt = new ConcurrentHashMap<>();
        private final Thread thread;
        private volatile boolean running = true;

        IoThreadWatch(MariaDbProbe db, List<SandboxNode> replicas) throws Exception {
            List<Connection> connections = new CopyOnWriteArrayList<>();
            for (SandboxNode r : replicas) {
                connections.add(db.connect(r));
            }
            thread = new Thread(
                    () -> {
                        try {
                            while (running && stoppedAt.size() < replicas.size()) {
                                for (int i = 0; i < replicas.size(); i++) {
                                    String io = MariaDbProbe.slaveStatus(connections.get(i))
                                            .get("Slave_IO_Running");
                                    if (!"Yes".equals(io)) {
                                        stoppedAt.putIfAbsent(replicas.get(i).id(), System.nanoTime());
                                    }
                                }
                                Thread.sleep(5);
                            }
                        } catch (Exception e) {
                            // the watch only measures; the assertions do not depend on it
                        } finally {
                            for (Connection c : connections) {
                                try {
                                    c.close();
                                } catch (Exception ignored) {
                                    // closing a measuring connection
                                }
                            }
                        }
                    },
                    "io-thread-watch");
            thread.setDaemon(true);
            thread.start();
        }

        /** Per replica, ms from {@code killNanos} until its IO thread stopped running. */
        Map<String, Long> noticedMs(long killNanos) {
            return stoppedAt.entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> (e.getValue() - killNanos) / 1_000_000));
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(2000);
        }
    }
}
