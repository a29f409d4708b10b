package dev.baton.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code status} tells the truth about what it shows, and {@code --check} turns it into an exit code. */
class StatusCheckTest {
    @TempDir
    Path dir;

    private EmbeddedZooKeeper zk;
    private CuratorFramework client;
    private ClusterRegistry registry;
    private Path config;

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        client = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        registry = new ClusterRegistry(client, "orders");
        config = dir.resolve("baton.yml");
        Files.writeString(
                config,
                "zookeeper: { connect: \"" + zk.connectString() + "\" }\n"
                        + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: baton\n    nodes:\n"
                        + "      - { id: pg1, host: 127.0.0.1, port: 5501 }\n"
                        + "      - { id: pg2, host: 127.0.0.1, port: 5502 }\n");
        registry.publishFirst(new PrimaryRecord("orders", "pg1", "127.0.0.1", 5501, "postgresql", 1, Instant.now()));
        for (String id : new String[] {"pg1", "pg2"}) {
            registry.writeNodeStateInBackground(new NodeState(
                    id,
                    "127.0.0.1",
                    id.equals("pg1") ? 5501 : 5502,
                    true,
                    id.equals("pg1") ? NodeRole.PRIMARY : NodeRole.REPLICA,
                    1,
                    "0/1",
                    "0/1",
                    0,
                    0,
                    null,
                    true,
                    false,
                    false,
                    null,
                    Instant.now(),
                    null));
        }
        org.awaitility.Awaitility.await().until(() -> registry.readNodeStates().size() == 2);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        zk.close();
    }

    private record Result(int exit, String out) {}

    private Result status(String... extra) {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        String[] args = new String[extra.length + 3];
        args[0] = "status";
        args[1] = "--config";
        args[2] = config.toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return new Result(BatonCli.execute(cli, args), out.toString());
    }

    @Test
    void saysThatNoOrchestratorRunsAndFailsTheCheck() {
        Result r = status("--check");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("Orchestrator: NONE RUNNING").contains("PROBLEM: no orchestrator is running");
        assertThat(status().exit()).as("without --check it only reports").isZero();
    }

    @Test
    void passesTheCheckWhileAnOrchestratorLeadsAndTheDataIsFresh() throws Exception {
        try (LeaderLatch latch = new LeaderLatch(client, RegistryPaths.leader("orders"), "orch-a")) {
            latch.start();
            latch.await();
            Result r = status("--check");
            assertThat(r.out()).contains("Orchestrator: orch-a leads").doesNotContain("PROBLEM");
            assertThat(r.exit()).as("a warning does not fail the check").isZero();
            assertThat(r.out())
                    .as("DESIGN rule 13: an advisory fence is said so")
                    .contains("warning: the fence of an old primary is advisory: default_transaction_read_only");
        }
    }

    @Test
    void failsTheCheckWhileAConfiguredAgentIsAbsentAndShowsTheAgentsThatReport() throws Exception {
        Files.writeString(config, Files.readString(config).replace("port: 5502 }", "port: 5502, agent: true }"));
        try (LeaderLatch latch = new LeaderLatch(client, RegistryPaths.leader("orders"), "orch-a")) {
            latch.start();
            latch.await();
            Result absent = status("--check");
            assertThat(absent.exit()).isEqualTo(1);
            assertThat(absent.out())
                    .contains("PROBLEM: node pg2: its agent is configured (agent: true) but not connected")
                    .containsPattern("\\| pg2 .*\\| ABSENT +\\|");

            // What an agent publishes (an ephemeral node of its session; here the test's own).
            dev.baton.registry.AgentRecord record = new dev.baton.registry.AgentRecord(
                    "pg2",
                    "db-host-2",
                    4242,
                    "running",
                    777,
                    "server process 777 runs",
                    "stop",
                    2500,
                    false,
                    Instant.now(),
                    false,
                    null);
            client.create()
                    .creatingParentsIfNeeded()
                    .withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                    .forPath(RegistryPaths.agent("orders", "pg2"), RegistryJson.write(record));
            Result present = status("--check");
            assertThat(present.exit()).as(present.out()).isZero();
            assertThat(present.out())
                    .containsPattern("\\| pg2 .*\\| running +\\|")
                    .contains("agent pg2: server process 777 runs")
                    .as("pg1 has no agent: the advisory fence is still said, naming it")
                    .contains("nodes without an agent that fences: pg1");
            assertThat(status("--json").out())
                    .contains("\"agentConfigured\" : true")
                    .contains("\"server\" : \"running\"");
        }
    }

    @Test
    void flagsARecordNamingAnUnknownNodeAndOldData() throws Exception {
        client.setData()
                .forPath(
                        RegistryPaths.primary("orders"),
                        RegistryJson.write(new PrimaryRecord(
                                "orders", "ghost", "127.0.0.1", 5501, "postgresql", 2, Instant.now())));
        Result r = status("--check", "--json");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(RegistryJson.mapper()
                        .readTree(r.out())
                        .get(0)
                        .get("problems")
                        .toString())
                .contains("names node 'ghost', which is not a node of cluster orders");
        zk.stop(); // nothing more can change; now wait until the data is older than the limit: 5 s
        zk.restart();
        Thread.sleep(5500);
        assertThat(status().out()).contains("node states are").contains("s old");
    }
}
