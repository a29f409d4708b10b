package dev.baton.orchestrator.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.AgentRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/** What the orchestrator makes of the agents' records, on a real ZooKeeper. */
class AgentReportsTest {
    private static AgentRecord record(String node, String server) {
        return new AgentRecord(
                node, "h", 1, server, 0, "server " + server, "stop", 2500, false, Instant.now(), false, null);
    }

    @Test
    void aDeathReportProvesOnlyWhileItStandsAndOnlyIfItCameAfterTheServersLastAnswer() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
                CuratorFramework client = RegistryClient.start(
                        zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            List<String> woken = new CopyOnWriteArrayList<>();
            try (AgentReports reports = new AgentReports(client, "c", System::nanoTime, woken::add)) {
                reports.start();
                String path = RegistryPaths.agent("c", "pg1");
                client.create().creatingParentsIfNeeded().forPath(path, RegistryJson.write(record("pg1", "running")));
                await().until(() -> reports.of("pg1").isPresent());
                assertThat(reports.proofOfDeath("pg1", Long.MIN_VALUE)).isNull();

                long answeredBefore = System.nanoTime();
                client.setData().forPath(path, RegistryJson.write(record("pg1", AgentRecord.EXITED)));
                await().until(() -> reports.proofOfDeath("pg1", answeredBefore) != null);
                assertThat(reports.proofOfDeath("pg1", answeredBefore)).contains("exited");
                assertThat(woken).containsExactly("pg1");
                woken.clear();
                assertThat(reports.proofOfDeath("pg1", System.nanoTime()))
                        .as("the server answered after the report: it proves nothing")
                        .isNull();
                assertThat(reports.proofOfDeath("pg1", Long.MIN_VALUE))
                        .as("the server never answered this orchestrator: the report may predate a restart")
                        .isNull();
                client.setData().forPath(path, RegistryJson.write(record("pg1", AgentRecord.ABSENT)));
                await().until(() -> reports.of("pg1")
                        .map(r -> r.record().server().equals("absent"))
                        .orElse(false));
                assertThat(reports.proofOfDeath("pg1", answeredBefore))
                        .as("absent: never seen running by that agent, proves nothing")
                        .isNull();
                client.setData().forPath(path, RegistryJson.write(record("pg1", AgentRecord.EXITED)));
                await().until(() -> reports.proofOfDeath("pg1", answeredBefore) != null);

                client.setData().forPath(path, RegistryJson.write(record("pg1", AgentRecord.RUNNING)));
                await().until(() -> reports.proofOfDeath("pg1", answeredBefore) == null);

                client.setData().forPath(path, RegistryJson.write(record("pg2", AgentRecord.EXITED)));
                await().pollDelay(Duration.ofMillis(300)).until(() -> true);
                assertThat(reports.proofOfDeath("pg1", answeredBefore))
                        .as("a record under pg1 that names pg2 is no one's")
                        .isNull();
                client.delete().forPath(path);
                await().until(() -> reports.of("pg1").isEmpty());
            }
        }
    }
}
