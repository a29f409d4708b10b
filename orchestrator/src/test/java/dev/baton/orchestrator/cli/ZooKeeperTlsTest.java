package dev.baton.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.config.ConfigLoader;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code zookeeper.tls} reaches ZooKeeper's client: a real ZooKeeper server process that speaks only TLS on its
 * client port (with a certificate made here by keytool) is reached with the configured trust and key stores, and not
 * without them.
 */
class ZooKeeperTlsTest {
    private static final String SECRET = "s3cret-store";

    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue())
                .as("keytool " + String.join(" ", args) + ": " + out)
                .isZero();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String baton(String... args) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(text, true));
        cli.setErr(new PrintWriter(text, true));
        return BatonCli.execute(cli, args) + "|" + text;
    }

    @Test
    void aTlsOnlyEnsembleIsReachedWithTheConfiguredStoresAndNotWithout() throws Exception {
        Path keyStore = dir.resolve("zk.p12");
        Path trustStore = dir.resolve("trust.p12");
        keytool(
                "-genkeypair",
                "-alias",
                "zk",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                SECRET,
                "-keypass",
                SECRET,
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2");
        keytool(
                "-exportcert",
                "-alias",
                "zk",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                SECRET,
                "-file",
                dir.resolve("zk.cer").toString());
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "zk",
                "-file",
                dir.resolve("zk.cer").toString(),
                "-keystore",
                trustStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                SECRET);

        int port = freePort();
        Path data = Files.createDirectories(dir.resolve("data"));
        Path zooCfg = dir.resolve("zoo.cfg");
        Files.writeString(
                zooCfg,
                "tickTime=500\ndataDir=" + data + "\nsecureClientPort=" + port + "\nadmin.enableServer=false\n");
        Process server = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
                        "-Dzookeeper.ssl.keyStore.location=" + keyStore,
                        "-Dzookeeper.ssl.keyStore.password=" + SECRET,
                        "-Dzookeeper.ssl.trustStore.location=" + trustStore,
                        "-Dzookeeper.ssl.trustStore.password=" + SECRET,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "org.apache.zookeeper.server.ZooKeeperServerMain",
                        zooCfg.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("zk.log").toFile())
                .start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
            while (true) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException e) {
                    assertThat(server.isAlive())
                            .as("ZooKeeper server: " + Files.readString(dir.resolve("zk.log")))
                            .isTrue();
                    assertThat(Instant.now()).isBefore(deadline);
                    Thread.sleep(100);
                }
            }
            String cluster = "clusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n    password: p\n"
                    + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg2, host: h, port: 2 }\n";
            Path withTls = dir.resolve("tls.yml");
            Files.writeString(
                    withTls,
                    "zookeeper:\n  connect: \"127.0.0.1:" + port + "\"\n  connectionTimeout: 3s\n"
                            + "  tls: { trustStore: \"" + trustStore + "\", trustStorePassword: \"${STORE_SECRET}\","
                            + " keyStore: \"" + keyStore + "\", keyStorePassword: \"${STORE_SECRET}\" }\n" + cluster);
            Path plain = dir.resolve("plain.yml");
            Files.writeString(
                    plain, "zookeeper: { connect: \"127.0.0.1:" + port + "\", connectionTimeout: 2s }\n" + cluster);

            assertThat(new ConfigLoader(name -> name.equals("STORE_SECRET") ? SECRET : null)
                            .read(withTls)
                            .zookeeper()
                            .toString())
                    .doesNotContain(SECRET);
            // The CLI reads ${STORE_SECRET} from the environment: not settable here, so the stores' password is
            // written through a second file with the value itself.
            Files.writeString(withTls, Files.readString(withTls).replace("${STORE_SECRET}", SECRET));
            assertThat(baton("zk", "init", "--config", withTls.toString())).startsWith("0|");
            assertThat(baton("status", "--config", withTls.toString()))
                    .startsWith("0|")
                    .contains("pg1");
            assertThat(baton("status", "--config", plain.toString()))
                    .startsWith("2|")
                    .contains("cannot reach ZooKeeper");
        } finally {
            server.descendants().forEach(ProcessHandle::destroyForcibly);
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void saslSettingsPassThroughAsZooKeeperClientProperties() throws Exception {
        Path jaas = dir.resolve("jaas.conf");
        Files.writeString(
                jaas,
                "Client { org.apache.zookeeper.server.auth.DigestLoginModule required"
                        + " username=\"baton\" password=\"x\"; };\n");
        var zk = new ConfigLoader(name -> null)
                .parse(
                        "zookeeper:\n  connect: \"127.0.0.1:1\"\n  sasl: { jaasConfig: \"" + jaas
                                + "\", serverPrincipal: \"zookeeper/zk1@EXAMPLE.COM\" }\n"
                                + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n"
                                + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n      - { id: pg2, host: h, port: 2 }\n",
                        "test")
                .zookeeper();
        assertThat(zk.clientProperties())
                .containsEntry("zookeeper.sasl.client", "true")
                .containsEntry("java.security.auth.login.config", jaas.toString())
                .containsEntry("zookeeper.sasl.clientconfig", "Client")
                .containsEntry("zookeeper.server.principal", "zookeeper/zk1@EXAMPLE.COM");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ConfigLoader(name -> null)
                        .parse(
                                "zookeeper:\n  connect: \"127.0.0.1:1\"\n  sasl: { jaasConfig: \"/nonexistent/jaas\" }\n"
                                        + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: u\n"
                                        + "    nodes:\n      - { id: pg1, host: h, port: 1 }\n"
                                        + "      - { id: pg2, host: h, port: 2 }\n",
                                "test"))
                .hasMessage("zookeeper.sasl.jaasConfig: /nonexistent/jaas is not a readable file");
        assertThat(new File(jaas.toString())).exists();
    }
}
