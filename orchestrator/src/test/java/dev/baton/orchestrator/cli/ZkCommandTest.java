package dev.baton.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code baton zk init} and {@code baton zk dump} against a real ZooKeeper, with digest ACLs. */
class ZkCommandTest {
    @TempDir
    Path dir;

    private static String baton(String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(text, true));
        cli.setErr(new PrintWriter(text, true));
        int exit = BatonCli.execute(cli, args);
        return exit + "|" + text;
    }

    private static CuratorFramework client(EmbeddedZooKeeper zk) {
        return RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
    }

    /** Cluster orders' record naming {@code node}, on a port of its epoch's number. */
    private static PrimaryRecord primary(String node, long epoch) {
        return new PrimaryRecord("orders", node, "h", (int) epoch, "postgresql", epoch, Instant.EPOCH);
    }

    @Test
    void initCreatesTheNamespaceSoThatOnlyBatonCanWriteAndAnyoneCanRead() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            Path config = dir.resolve("baton.yml");
            Files.writeString(
                    config,
                    "zookeeper: { connect: \"" + zk.connectString() + "\", digest: \"baton:${ZK_SECRET}\" }\n"
                            + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n    password: p\n"
                            + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg2, host: h, port: 2 }\n");
            // The config reads the secret from the environment; the CLI is given it the same way in production.
            String secret = "zk-s3cret";
            String yaml = Files.readString(config).replace("${ZK_SECRET}", secret);
            Files.writeString(config, yaml);

            String init = baton("zk", "init", "--config", config.toString());
            assertThat(init)
                    .startsWith("0|")
                    .contains("created /clusters/orders/requests")
                    .contains("digest:baton:****=all", "world:anyone=read")
                    .doesNotContain(secret);
            assertThat(baton("zk", "init", "--config", config.toString())).contains("exists  /clusters/orders");

            try (CuratorFramework anonymous = RegistryClient.start(
                            zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
                    CuratorFramework baton = RegistryClient.start(
                            zk.connectString(),
                            "baton",
                            Duration.ofSeconds(10),
                            Duration.ofSeconds(3),
                            "baton:" + secret)) {
                assertThat(anonymous.checkExists().forPath(RegistryPaths.cluster("orders")))
                        .isNotNull();
                assertThatThrownBy(() -> anonymous.create().forPath(RegistryPaths.primary("orders"), new byte[0]))
                        .isInstanceOf(KeeperException.NoAuthException.class);
                baton.create().forPath(RegistryPaths.primary("orders"), "{}".getBytes(StandardCharsets.UTF_8));
                assertThat(new String(
                                anonymous.getData().forPath(RegistryPaths.primary("orders")), StandardCharsets.UTF_8))
                        .isEqualTo("{}");
                assertThatThrownBy(() -> anonymous.setData().forPath(RegistryPaths.primary("orders"), new byte[0]))
                        .isInstanceOf(KeeperException.NoAuthException.class);
            }
            String dump = baton("zk", "dump", "--config", config.toString());
            assertThat(dump).startsWith("0|").contains("/baton", "clusters", "orders", "primary  {}");
        }
    }

    @Test
    void aMalformedDigestIsRefusedWithoutEchoingIt() {
        String yaml = "zookeeper: { connect: \"127.0.0.1:1\", digest: \"no-colon-secret\" }\n"
                + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n    password: p\n"
                + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg2, host: h, port: 2 }\n";
        assertThatThrownBy(() -> new ConfigLoader(name -> null).parse(yaml, "t"))
                .hasMessage("zookeeper.digest: must be user:password");
    }

    private static String config(EmbeddedZooKeeper zk, String digest) {
        return "zookeeper: { connect: \"" + zk.connectString() + "\""
                + (digest == null ? "" : ", digest: \"" + digest + "\"")
                + " }\nclusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n    password: p\n"
                + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg2, host: h, port: 2 }\n";
    }

    @Test
    void aMissingOrWrongDigestIsOneLineNamingTheProblem() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            Path config = dir.resolve("baton.yml");
            Files.writeString(config, config(zk, "baton:right-s3cret"));
            assertThat(baton("zk", "init", "--config", config.toString())).startsWith("0|");
            String refused = "ZooKeeper refused access to /baton/clusters/orders/paused (NoAuth)";

            Files.writeString(config, config(zk, "baton:wrong-s3cret"));
            assertThat(baton("pause", "--config", config.toString()))
                    .isEqualTo("2|baton: zookeeper.digest: wrong password for user 'baton': " + refused + "\n");

            Files.writeString(config, config(zk, null));
            assertThat(baton("pause", "--config", config.toString()))
                    .isEqualTo("2|baton: zookeeper.digest: not set, but only digest user baton may do this: " + refused
                            + "\n");

            Files.writeString(config, config(zk, "ops:right-s3cret"));
            assertThat(baton("pause", "--config", config.toString()))
                    .isEqualTo("2|baton: zookeeper.digest: user 'ops' is not in the ACL (digest users: baton): "
                            + refused + "\n");

            // An orchestrator with the wrong digest says so at once instead of never leading.
            Files.writeString(config, config(zk, "baton:wrong-s3cret"));
            assertThat(baton("run", "--config", config.toString()))
                    .isEqualTo("2|baton: zookeeper.digest: wrong password for user 'baton': "
                            + "ZooKeeper refused access to /baton/clusters/orders/leader (NoAuth)\n");

            // Reading needs no digest, and the right one still works.
            assertThat(baton("status", "--config", config.toString())).startsWith("0|");
            Files.writeString(config, config(zk, "baton:right-s3cret"));
            assertThat(baton("pause", "--config", config.toString())).startsWith("0|cluster orders paused");
        }
    }

    @Test
    void dumpShowsAnEpochNodeAsTheRecordItsNameCarries() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
                CuratorFramework client = client(zk)) {
            Path config = dir.resolve("baton.yml");
            Files.writeString(config, config(zk, null));
            new ClusterRegistry(client, "orders").publishFirst(primary("pg1", 1));
            assertThat(baton("zk", "dump", "--config", config.toString()))
                    .startsWith("0|")
                    .contains(
                            "      epochs\n        epoch 1 (record in the name)  {\"cluster\":\"orders\",\"nodeId\":\"pg1\"");
        }
    }

    @Test
    void watchPrintsThePrimaryRecordAsItChanges() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
                CuratorFramework client = client(zk)) {
            Path config = dir.resolve("baton.yml");
            Files.writeString(config, config(zk, null));
            new ClusterRegistry(client, "orders").publishFirst(primary("pg1", 1));
            StringWriter text = new StringWriter();
            CommandLine cli = new CommandLine(new BatonCli());
            cli.setOut(new PrintWriter(text, true));
            cli.setErr(new PrintWriter(text, true));
            var watched = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                    BatonCli.execute(cli, new String[] {"zk", "watch", "--config", config.toString(), "--count", "2"}));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> text.toString()
                    .contains("\"nodeId\":\"pg1\""));
            client.setData().forPath(RegistryPaths.primary("orders"), RegistryJson.write(primary("pg2", 2)));
            assertThat(watched.get(20, java.util.concurrent.TimeUnit.SECONDS).intValue())
                    .isZero();
            assertThat(text.toString().lines().toList())
                    .hasSize(2)
                    .satisfiesExactly(
                            first -> assertThat(first).contains("orders primary", "\"nodeId\":\"pg1\"", "\"epoch\":1"),
                            second -> assertThat(second).contains("\"nodeId\":\"pg2\"", "\"epoch\":2", "(version 1)"));
        }
    }
}
