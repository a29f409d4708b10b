package dev.baton.orchestrator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.config.HttpConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.metrics.OrchestratorMetrics;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.io.FileInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API's refusals and its TLS, against a real ZooKeeper (no database: nothing here needs a node). The
 * end-to-end API test with a running orchestrator and cluster is bench's HttpApiTest.
 */
class ApiServerTest {
    private static final String TOKEN = "a-token-of-some-length";

    @TempDir
    Path dir;

    private EmbeddedZooKeeper zk;
    private CuratorFramework client;
    private BatonConfig config;
    private ApiServer server;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        client = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        client.blockUntilConnected(10, TimeUnit.SECONDS);
        config = new ConfigLoader(Map.of("TOKEN", TOKEN)::get)
                .parse(
                        "zookeeper: { connect: \"" + zk.connectString() + "\" }\n"
                                + "http: { port: 0, token: \"${TOKEN}\" }\n"
                                + "clusters:\n  - name: orders\n    dialect: postgresql\n    user: baton\n"
                                + "    nodes:\n"
                                + "      - { id: pg1, host: 127.0.0.1, port: 5501 }\n"
                                + "      - { id: pg2, host: 127.0.0.1, port: 5502 }\n",
                        "test");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        client.close();
        zk.close();
    }

    private ApiServer serve(HttpConfig httpConfig) {
        server = new ApiServer(
                httpConfig,
                config,
                new ApiServer.Host() {
                    @Override
                    public String id() {
                        return "orch-test";
                    }

                    @Override
                    public boolean leads(String cluster) {
                        return false;
                    }

                    @Override
                    public CuratorFramework client() {
                        return client;
                    }

                    @Override
                    public OrchestratorMetrics metrics() {
                        return new OrchestratorMetrics(config, c -> false);
                    }
                },
                Clock.systemUTC());
        server.start();
        return server;
    }

    private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> r) throws Exception {
        JsonNode body = RegistryJson.mapper().readTree(r.body());
        return body.path("error").asText();
    }

    @Test
    void bindsToLoopbackByDefault() {
        assertThat(config.http().address()).isEqualTo("127.0.0.1");
        assertThat(serve(config.http()).url()).startsWith("http://127.0.0.1:");
    }

    @Test
    void refusesMutationsWithoutTheRightToken() throws Exception {
        serve(config.http());
        HttpResponse<String> none = send("POST", "/clusters/orders/pause", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(error(none)).contains("missing bearer token");
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"baton\"");

        HttpResponse<String> wrong = send("POST", "/clusters/orders/pause", TOKEN + "x", null);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(error(wrong)).isEqualTo("wrong bearer token");
        assertThat(new ClusterRegistry(client, "orders").isPaused()).isFalse();

        HttpResponse<String> right = send("POST", "/clusters/orders/pause", TOKEN, "{\"reason\": \"maintenance\"}");
        assertThat(right.statusCode()).as(right.body()).isEqualTo(200);
        assertThat(RegistryJson.mapper().readTree(right.body()).path("changed").asBoolean())
                .isTrue();
        assertThat(new ClusterRegistry(client, "orders").isPaused()).isTrue();

        HttpResponse<String> resume = send("POST", "/clusters/orders/resume", TOKEN, null);
        assertThat(resume.statusCode()).isEqualTo(200);
        assertThat(new ClusterRegistry(client, "orders").isPaused()).isFalse();
    }

    @Test
    void refusesEveryMutationWhenNoTokenIsConfigured() throws Exception {
        serve(new HttpConfig("127.0.0.1", 0, null, null, ""));
        for (String what : new String[] {"pause", "resume", "switchover"}) {
            HttpResponse<String> r = send("POST", "/clusters/orders/" + what, TOKEN, "{}");
            assertThat(r.statusCode()).as(what).isEqualTo(403);
            assertThat(error(r)).contains("no http.token is configured");
        }
        assertThat(new ClusterRegistry(client, "orders").isPaused()).isFalse();
    }

    @Test
    void answersBadRequestsWithA4xxNamingTheProblem() throws Exception {
        serve(config.http());
        record Case(String method, String path, String body, int status, String error) {}
        for (Case c : new Case[] {
            new Case("GET", "/clusters/nope", null, 404, "no cluster 'nope' (clusters: [orders])"),
            new Case("GET", "/clusters/nope/history", null, 404, "no cluster 'nope'"),
            new Case("GET", "/nothing", null, 404, "no such resource: /nothing"),
            new Case("GET", "/clusters/orders/nothing", null, 404, "no such resource"),
            new Case("POST", "/clusters", null, 405, "POST is not allowed on /clusters"),
            new Case("GET", "/clusters/orders/pause", null, 405, "GET is not allowed"),
            new Case("GET", "/clusters/orders/primary", null, 400, "node: required"),
            new Case("GET", "/clusters/orders/primary?node=pg9", null, 404, "node: 'pg9' is not a member"),
            new Case("GET", "/clusters/orders/primary?node=pg1&lag=1", null, 400, "lag: unknown query parameter"),
            new Case("GET", "/clusters/orders/replica?node=pg2&lag=lots", null, 400, "lag: 'lots' is not a lag limit"),
            new Case("GET", "/clusters/orders/operations/abc", null, 404, "no operation 'abc'"),
            new Case("POST", "/clusters/orders/switchover", "{\"to\": \"pg9\"}", 400, "to: 'pg9' is not a node"),
            new Case("POST", "/clusters/orders/switchover", "{\"to\": 2}", 400, "to: must be a string"),
            new Case("POST", "/clusters/orders/switchover", "{\"target\": \"pg2\"}", 400, "target: unknown field"),
            new Case("POST", "/clusters/orders/switchover", "[1]", 400, "must be a JSON object"),
            new Case("POST", "/clusters/orders/switchover", "{to: pg2", 400, "request body is not JSON"),
            new Case("POST", "/clusters/orders/switchover?wait=maybe", "{}", 400, "wait: 'maybe' is not true or false"),
            new Case("POST", "/clusters/orders/resume", "{\"reason\": \"x\"}", 400, "reason: unknown field"),
        }) {
            HttpResponse<String> r = send(c.method(), c.path(), TOKEN, c.body());
            assertThat(r.statusCode())
                    .as(c.method() + " " + c.path() + ": " + r.body())
                    .isEqualTo(c.status());
            assertThat(r.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
            assertThat(error(r)).as(c.path()).contains(c.error());
        }
        assertThat(client.checkExists().forPath("/clusters/orders/requests"))
                .as("no bad request reached ZooKeeper")
                .isNull();
    }

    @Test
    void loadBalancerChecksAnswer503WhenNoOrchestratorPublishedAnything() throws Exception {
        serve(config.http());
        HttpResponse<String> r = send("GET", "/clusters/orders/primary?node=pg1", null, null);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(RegistryJson.mapper().readTree(r.body()).path("reason").asText())
                .contains("no node state was ever published");
        HttpResponse<String> head = send("HEAD", "/clusters/orders/replica?node=pg2", null, null);
        assertThat(head.statusCode()).isEqualTo(503);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void servesHttpsWithTheConfiguredKeystore() throws Exception {
        Path keystore = dir.resolve("api.p12");
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-genkeypair",
                        "-alias",
                        "baton",
                        "-keyalg",
                        "EC",
                        "-dname",
                        "CN=127.0.0.1",
                        "-ext",
                        "san=ip:127.0.0.1",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        keystore.toString(),
                        "-storepass",
                        "changeit")
                .redirectErrorStream(true)
                .start();
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue())
                .as(new String(keytool.getInputStream().readAllBytes()))
                .isZero();

        assertThatThrownBy(() -> serve(new HttpConfig("127.0.0.1", 0, TOKEN, keystore, "wrong")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("http.tls.keystore: cannot use " + keystore);
        server = null;

        serve(new HttpConfig("127.0.0.1", 0, TOKEN, keystore, "changeit"));
        assertThat(server.url()).startsWith("https://127.0.0.1:");
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(keystore.toFile())) {
            trusted.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        HttpClient https = HttpClient.newBuilder().sslContext(tls).build();
        HttpResponse<String> health = https.send(
                HttpRequest.newBuilder(URI.create(server.url() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"orchestrator\" : \"orch-test\"");
    }
}
