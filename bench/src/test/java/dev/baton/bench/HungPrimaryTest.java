package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A primary that hangs (SIGSTOP of every process of the server) instead of dying: the replicas keep their
 * connection until their receiver times out, so Baton first reports it unreachable-but-replicating, then fails
 * over; when the old primary wakes up it is fenced, not re-published.
 */
class HungPrimaryTest {
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void failsOverFromAHungPrimaryAndFencesItWhenItWakesUp(String dialect) throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare(dialect, step -> {})) {
            PrimaryRecord first = scenario.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            SandboxNode hung = scenario.node(first.nodeId());
            try (ClusterProbe probe = new ClusterProbe(scenario);
                    Writer writer = new Writer(scenario.dataSource(), dialect, 100).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 50);
                hung.pause();
                try {
                    await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> assertThat(
                                    probe.primaryRecord().orElseThrow().epoch())
                            .isEqualTo(first.epoch() + 1));
                    PrimaryRecord next = probe.primaryRecord().orElseThrow();
                    assertThat(next.nodeId()).isNotEqualTo(hung.id());
                    long acknowledged = writer.acknowledgedCount();
                    await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= acknowledged + 50);
                    assertThat(writer.writes().get(writer.writes().size() - 1).port())
                            .isEqualTo(scenario.node(next.nodeId()).port());
                } finally {
                    hung.resume();
                }
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(probe.writable(hung))
                            .as(hung.id() + " writable after waking up")
                            .isFalse();
                    assertThat(probe.nodeState(hung.id()).orElseThrow().needsRejoin())
                            .isTrue();
                });
                assertThat(probe.primaryRecord().orElseThrow().epoch()).isEqualTo(first.epoch() + 1);
            }
        }
    }
}
