package dev.baton.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.Orchestrator;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.NodeState;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What an operator sees when the configuration or the environment is wrong. */
class BadInputTest {
    @TempDir
    Path dir;

    private static String yaml(String zk, String password, List<? extends dev.baton.sandbox.SandboxNode> nodes) {
        StringBuilder s = new StringBuilder("zookeeper: { connect: \"" + zk + "\", connectionTimeout: 1s }\n"
                + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: baton\n    password: \"" + password
                + "\"\n    nodes:\n");
        for (var n : nodes) {
            s.append("      - { id: ")
                    .append(n.id())
                    .append(", host: 127.0.0.1, port: ")
                    .append(n.port())
                    .append(" }\n");
        }
        return s.toString();
    }

    private record Result(int exit, String text) {}

    private static Result baton(String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(text, true));
        cli.setErr(new PrintWriter(text, true));
        return new Result(BatonCli.execute(cli, args), text.toString());
    }

    private record Streams(int exit, String out, String err) {}

    private static Streams batonSeparately(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new Streams(BatonCli.execute(cli, args), out.toString(), err.toString());
    }

    @Test
    void switchoverWithJsonButWithoutYesAnswersInJsonAndChangesNothing() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path config = dir.resolve("baton.yml");
        Files.writeString(
                config,
                "zookeeper: { connect: \"127.0.0.1:" + closedPort + "\", connectionTimeout: 1s }\n"
                        + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: baton\n    password: x\n"
                        + "    nodes:\n      - { id: pg1, host: 127.0.0.1, port: 5 }\n      - { id: pg2, host: 127.0.0.1, port: 6 }\n");
        Streams switchover = batonSeparately("switchover", "--config", config.toString(), "--json");
        assertThat(switchover.exit()).isEqualTo(2);
        assertThat(RegistryJson.mapper()
                        .readTree(switchover.out())
                        .path("error")
                        .asText())
                .startsWith("--json: needs --yes")
                .contains("--dry-run");
        assertThat(switchover.err()).startsWith("baton: --json: needs --yes");

        // Whatever goes wrong, --json keeps stdout JSON; the line for people goes to stderr.
        Streams status = batonSeparately("status", "--config", config.toString(), "--json");
        assertThat(status.exit()).isEqualTo(2);
        assertThat(RegistryJson.mapper().readTree(status.out()).path("error").asText())
                .startsWith("zookeeper.connect: cannot reach ZooKeeper");
    }

    @Test
    void runFailsFastNamingTheKeyWhenZooKeeperIsUnreachable() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Path config = dir.resolve("baton.yml");
        Files.writeString(
                config,
                "zookeeper: { connect: \"127.0.0.1:" + closedPort + "\", connectionTimeout: 1s }\n"
                        + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: baton\n    password: x\n"
                        + "    nodes:\n      - { id: pg1, host: 127.0.0.1, port: 5 }\n      - { id: pg2, host: 127.0.0.1, port: 6 }\n");
        Result run = baton("run", "--config", config.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.text())
                .contains("baton: zookeeper.connect: cannot reach ZooKeeper at 127.0.0.1:" + closedPort
                        + " within 1000 ms");
    }

    @Test
    void configErrorsNameTheKeyAndStopBeforeAnythingStarts() throws Exception {
        Path config = dir.resolve("bad.yml");
        Files.writeString(
                config,
                "zookeeper: { connect: \"127.0.0.1:1\" }\nclusters:\n  - name: orders\n"
                        + "    dialect: postgresql\n    user: baton\n    passwd: x\n"
                        + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg1, host: h, port: 2 }\n");
        Result run = baton("run", "--config", config.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.text()).contains("baton: clusters[0].nodes[1].id: 'pg1' is used by another node");
        Files.writeString(
                config,
                Files.readString(config)
                        .replace("port: 2", "port: 3")
                        .replace("id: pg1, host: h, port: 3", "id: pg2, host: h, port: 3"));
        assertThat(baton("status", "--config", config.toString()).text())
                .contains("baton: clusters[0].passwd: unknown key");
        assertThat(baton("status", "--config", dir.resolve("missing.yml").toString())
                        .text())
                .contains("baton: config file " + dir.resolve("missing.yml") + " does not exist");
    }

    @Test
    void aWrongPasswordIsReportedPerNodeWithoutPrintingIt() throws Exception {
        String wrong = "not-the-password-42";
        try (PostgresSandbox sandbox = PostgresSandbox.start(1);
                EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            List<PgNode> nodes = sandbox.nodes();
            Path config = dir.resolve("baton.yml");
            Files.writeString(config, yaml(zk.connectString(), wrong, nodes));
            BatonConfig loaded = ConfigLoader.load(config);
            try (Orchestrator orchestrator = new Orchestrator(loaded, e -> {}, Clock.systemUTC());
                    CuratorFramework client = RegistryClient.start(
                            zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
                orchestrator.start();
                ClusterRegistry registry = new ClusterRegistry(client, "orders");
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    List<NodeState> states = registry.readNodeStates();
                    assertThat(states).hasSize(2).allSatisfy(s -> {
                        assertThat(s.reachable()).isFalse();
                        assertThat(s.error())
                                .contains("password authentication failed")
                                .doesNotContain(wrong);
                    });
                });
                Result status = baton("status", "--config", config.toString());
                assertThat(status.text())
                        .contains("pg1", "pg2", "password authentication failed")
                        .doesNotContain(wrong);
                // A rejected password is not a dead primary: nothing is published or promoted.
                assertThat(registry.readPrimary()).isEmpty();
            }
        }
    }
}
