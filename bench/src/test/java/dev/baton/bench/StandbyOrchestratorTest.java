package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/** Two real {@code baton run} processes against one ZooKeeper: one leads, the other takes over when it dies. */
class StandbyOrchestratorTest {
    @Test
    void standbyTakesOverAndFailsOverWhenTheLeadingProcessIsKilled() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("postgresql", step -> {})) {
            List<Process> processes = new ArrayList<>();
            try (CuratorFramework zk = RegistryClient.start(
                            scenario.zooKeeper().connectString(),
                            "baton",
                            Duration.ofSeconds(10),
                            Duration.ofSeconds(3));
                    ClusterProbe probe = new ClusterProbe(scenario)) {
                String yaml = Files.readString(scenario.configFile());
                for (String id : List.of("orch-a", "orch-b")) {
                    Path config = scenario.configFile().resolveSibling(id + ".yml");
                    Files.writeString(config, "orchestratorId: " + id + "\n" + yaml);
                    processes.add(new ProcessBuilder(
                                    Path.of(System.getProperty("java.home"), "bin", "java")
                                            .toString(),
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    "dev.baton.orchestrator.cli.BatonCli",
                                    "run",
                                    "--config",
                                    config.toString())
                            .redirectErrorStream(true)
                            .redirectOutput(scenario.configFile()
                                    .resolveSibling(id + ".log")
                                    .toFile())
                            .start());
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> probe.primaryRecord().isPresent());
                PrimaryRecord first = probe.primaryRecord().orElseThrow();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> zk.getChildren()
                                        .forPath(RegistryPaths.members())
                                        .size()
                                == 2);
                String leader = leaderOf(zk);
                Process leading = processes.get(leader.equals("orch-a") ? 0 : 1);
                leading.destroyForcibly().waitFor();

                scenario.node(first.nodeId()).kill();
                await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> assertThat(
                                probe.primaryRecord().orElseThrow().epoch())
                        .isEqualTo(first.epoch() + 1));
                assertThat(leaderOf(zk)).isNotEqualTo(leader);
                assertThat(probe.awaitHistory(1)).last().satisfies(h -> assertThat(h.outcome())
                        .isEqualTo("succeeded"));
            } finally {
                for (Process p : processes) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
    }

    /** The participant id of the latch node with the lowest sequence number: the leader. */
    private static String leaderOf(CuratorFramework zk) throws Exception {
        String path = RegistryPaths.leader(FailoverScenario.CLUSTER);
        String first = zk.getChildren().forPath(path).stream()
                .min(Comparator.comparing(name -> name.substring(name.lastIndexOf('-') + 1)))
                .orElseThrow();
        return new String(zk.getData().forPath(path + File.separator + first), StandardCharsets.UTF_8);
    }
}
