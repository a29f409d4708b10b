package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The primary killed with SIGKILL under write load, again and again, on servers at their defaults (a promotion can
 * stall for {@code wal_retrieve_retry_interval}, 5 s): after every run exactly one former replica was promoted,
 * exactly one node takes writes, and the other replica streams from it. {@code -Dbaton.crashRuns=N} changes the
 * number of runs (10 by default).
 */
class CrashLoopTest {
    private static final int RUNS = Integer.getInteger("baton.crashRuns", 10);

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void everyCrashEndsWithExactlyOnePromotedAndOneWritableNode(String dialect) throws Exception {
        List<String> summary = new ArrayList<>();
        for (int run = 1; run <= RUNS; run++) {
            try (FailoverScenario scenario = FailoverScenario.prepare(dialect, step -> {})) {
                FailoverRun failover = new FailoverRun(scenario);
                PrimaryRecord first =
                        scenario.startOrchestratorAndApplication(failover.listener(e -> {}), Duration.ofSeconds(30));
                try (ClusterProbe probe = new ClusterProbe(scenario);
                        Writer writer = new Writer(scenario.dataSource(), dialect, 200).start()) {
                    await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 100);
                    // a random moment of the orchestrator's poll cycle, as a real crash comes
                    Thread.sleep((long) (Math.random() * 500));
                    FailoverRun.Result result = failover.crashPrimary(writer, Duration.ofSeconds(30));
                    summary.add("run " + run + ": " + result.firstWriteMs() + " ms to the first write on "
                            + result.newPrimary());
                    // Long enough for a second promotion to show, had a timed-out one been given up.
                    Thread.sleep(3000);
                    List<SandboxNode> survivors = scenario.cluster().nodes().stream()
                            .filter(n -> !n.id().equals(first.nodeId()))
                            .map(n -> (SandboxNode) n)
                            .toList();
                    List<String> promoted = new ArrayList<>();
                    List<String> writable = new ArrayList<>();
                    for (SandboxNode n : survivors) {
                        if (!probe.isReplica(n)) {
                            promoted.add(n.id());
                        }
                        if (probe.writable(n)) {
                            writable.add(n.id());
                        }
                    }
                    assertThat(promoted)
                            .as("run %d: promoted former replicas", run)
                            .containsExactly(result.newPrimary());
                    assertThat(writable).as("run %d: writable nodes", run).containsExactly(result.newPrimary());
                    assertThat(probe.primaryRecord().orElseThrow().nodeId()).isEqualTo(result.newPrimary());
                    SandboxNode primary = scenario.node(result.newPrimary());
                    SandboxNode other = survivors.stream()
                            .filter(n -> !n.id().equals(result.newPrimary()))
                            .findFirst()
                            .orElseThrow();
                    await().atMost(Duration.ofSeconds(15))
                            .alias("run " + run + ": " + other.id() + " streams from " + primary.id())
                            .until(() -> probe.replicatesFrom(other, primary));
                }
            }
        }
        System.out.println(dialect + " crash loop: " + String.join("; ", summary));
    }
}
