package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.baton.registry.PrimaryRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The HTTP API of a real orchestrator over a real PostgreSQL primary with two replicas: what it reads, what it
 * refuses, the load-balancer checks across a switchover asked for through the API, and the metrics it exposes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HttpApiTest {
    private FailoverScenario scenario;
    private ApiClient api;
    private PrimaryRecord first;

    @BeforeAll
    void start() throws Exception {
        scenario = FailoverScenario.prepare("postgresql", step -> {});
        try {
            first = scenario.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            api = new ApiClient(scenario.apiUrl(), scenario.apiToken());
            // the node states of the first rounds: both replicas streaming from the primary
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                            api.get("/clusters/demo").json().path("members").findValuesAsText("state"))
                    .containsExactlyInAnyOrder("running", "streaming", "streaming"));
        } catch (Exception | AssertionError e) {
            scenario.close();
            throw e;
        }
    }

    @AfterAll
    void stop() {
        if (scenario != null) {
            scenario.close();
        }
    }

    @Test
    @Order(1)
    void servesTheStatusOfStatusJsonWithDataAgeAndLeader() throws Exception {
        ApiClient.Response all = api.get("/clusters");
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.json().size()).isEqualTo(1);

        ApiClient.Response one = api.get("/clusters/demo");
        assertThat(one.status()).isEqualTo(200);
        JsonNode c = one.json();
        assertThat(c.path("cluster").asText()).isEqualTo("demo");
        assertThat(c.path("primary").path("nodeId").asText()).isEqualTo(first.nodeId());
        assertThat(c.path("primary").path("epoch").asLong()).isEqualTo(first.epoch());
        assertThat(c.path("orchestrator").asText())
                .isEqualTo(scenario.orchestrator().id());
        assertThat(c.path("servedByLeader").asBoolean()).isTrue();
        assertThat(c.path("dataAgeMillis").asLong()).isBetween(0L, 5000L);
        assertThat(c.path("members").findValuesAsText("member")).containsExactly("pg1", "pg2", "pg3");
        assertThat(c.path("problems").size()).as(c.toString()).isZero();

        ApiClient.Response history = api.get("/clusters/demo/history");
        assertThat(history.status()).isEqualTo(200);
        assertThat(history.json().isArray()).isTrue();

        assertThat(api.get("/health").status()).isEqualTo(200);
        ApiClient.Response ready = api.get("/ready");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().path("ready").asBoolean()).isTrue();
        ApiClient.Response page = api.get("/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<title>Baton status</title>");

        ApiClient.Response unknown = api.get("/clusters/orders");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("error").asText()).isEqualTo("no cluster 'orders' (clusters: [demo])");
    }

    @Test
    @Order(2)
    void pauseAndResumeNeedTheTokenAndGoToZooKeeper() throws Exception {
        assertThat(api.post("/clusters/demo/pause", null, null).status()).isEqualTo(401);
        assertThat(api.post("/clusters/demo/pause", null, "not-the-token").status())
                .isEqualTo(401);
        assertThat(api.get("/clusters/demo").json().path("paused").asBoolean()).isFalse();

        ApiClient.Response paused = api.post("/clusters/demo/pause", "{\"reason\": \"test\"}");
        assertThat(paused.status()).as(paused.body()).isEqualTo(200);
        assertThat(api.get("/clusters/demo").json().path("paused").asBoolean()).isTrue();
        assertThat(api.post("/clusters/demo/pause", null).json().path("changed").asBoolean())
                .isFalse();

        assertThat(api.post("/clusters/demo/resume", null).status()).isEqualTo(200);
        assertThat(api.get("/clusters/demo").json().path("paused").asBoolean()).isFalse();
    }

    @Test
    @Order(3)
    void loadBalancerChecksFollowASwitchoverAskedForThroughTheApi() throws Exception {
        String a = first.nodeId();
        String b = a.equals("pg2") ? "pg3" : "pg2";
        assertThat(api.get("/clusters/demo/primary?node=" + a).status()).isEqualTo(200);
        assertThat(api.get("/clusters/demo/primary?node=" + b).status()).isEqualTo(503);
        assertThat(api.get("/clusters/demo/replica?node=" + b).status()).isEqualTo(200);
        assertThat(api.get("/clusters/demo/replica?node=" + b + "&lag=16MB").status())
                .isEqualTo(200);
        assertThat(api.get("/clusters/demo/replica?node=" + b + "&lag=30s").status())
                .isEqualTo(200);
        ApiClient.Response notReplica = api.get("/clusters/demo/replica?node=" + a);
        assertThat(notReplica.status()).isEqualTo(503);
        assertThat(notReplica.json().path("reason").asText()).isEqualTo(a + " is the published primary");

        assertThat(api.post("/clusters/demo/switchover", "{\"to\": \"" + b + "\"}", "wrong")
                        .status())
                .isEqualTo(401);
        ApiClient.Response accepted = api.post("/clusters/demo/switchover", "{\"to\": \"" + b + "\"}");
        assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
        String id = accepted.json().path("id").asText();
        assertThat(id).isNotEmpty();
        String location = accepted.json().path("location").asText();
        assertThat(location).isEqualTo("/clusters/demo/operations/" + id);

        // the load balancer's view while and after it runs: never two primaries at once
        List<String> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    boolean onA = api.get("/clusters/demo/primary?node=" + a).status() == 200;
                    boolean onB = api.get("/clusters/demo/primary?node=" + b).status() == 200;
                    seen.add(onA + "/" + onB);
                    return onB;
                });
        assertThat(seen).doesNotContain("true/true");
        JsonNode report = await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> api.get(location).json(),
                        r -> r.path("state").asText().equals("succeeded"));
        assertThat(report.path("toNode").asText()).isEqualTo(b);
        assertThat(report.path("steps").findValuesAsText("name")).contains("promote " + b, "publish");
        assertThat(api.get("/clusters/demo/primary?node=" + a).status()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> api.get("/clusters/demo/replica?node=" + a).status() == 200);
        assertThat(api.get("/clusters/demo/history").json().findValuesAsText("kind"))
                .containsExactly("switchover");

        ApiClient.Response refused = api.post("/clusters/demo/switchover?wait=true", "{\"to\": \"" + b + "\"}");
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.json().path("state").asText()).isEqualTo("refused");
        assertThat(refused.json().path("message").asText()).contains(b + " is the primary already");
    }

    @Test
    @Order(4)
    void exposesPrometheusMetricsWithTheExpectedSeries() throws Exception {
        ApiClient.Response scrape = api.get("/metrics");
        assertThat(scrape.status()).isEqualTo(200);
        Map<String, Double> m = ApiClient.parseMetrics(scrape.body());
        String primary =
                api.get("/clusters/demo").json().path("primary").path("nodeId").asText();
        assertThat(m).containsEntry("baton_cluster_leader{cluster=\"demo\"}", 1.0);
        assertThat(m).containsEntry("baton_zookeeper_connected", 1.0);
        for (String node : List.of("pg1", "pg2", "pg3")) {
            String labels = "{cluster=\"demo\",node=\"" + node + "\"}";
            assertThat(m.get("baton_probe_seconds_count" + labels)).as(node).isGreaterThan(0);
            assertThat(m).containsKey("baton_probe_seconds_sum" + labels);
            assertThat(m).containsEntry("baton_node_up" + labels, 1.0);
            assertThat(m).containsKey("baton_node_lag_bytes" + labels);
            assertThat(m).containsKey("baton_node_lag_seconds" + labels);
            assertThat(m)
                    .containsEntry(
                            "baton_node_role{cluster=\"demo\",node=\"" + node + "\",role=\"primary\"}",
                            node.equals(primary) ? 1.0 : 0.0);
        }
        assertThat(m).containsEntry("baton_node_lag_bytes{cluster=\"demo\",node=\"" + primary + "\"}", 0.0);
        assertThat(m)
                .containsEntry(
                        "baton_operations_total{cluster=\"demo\",kind=\"switchover\",outcome=\"succeeded\"}", 1.0);
        assertThat(m.get("baton_operation_phase_seconds_count{cluster=\"demo\",kind=\"switchover\","
                        + "phase=\"promotion-and-publication\"}"))
                .isEqualTo(1.0);
        assertThat(m.get("baton_events_total{cluster=\"demo\",kind=\"switchover_started\"}"))
                .isEqualTo(1.0);
    }

    @Test
    @Order(5)
    void metricsCountAFailoverAndItsPhases() throws Exception {
        String primary =
                api.get("/clusters/demo").json().path("primary").path("nodeId").asText();
        scenario.node(primary).kill();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> ApiClient.parseMetrics(api.get("/metrics").body())
                                .getOrDefault(
                                        "baton_operations_total{cluster=\"demo\",kind=\"failover\","
                                                + "outcome=\"succeeded\"}",
                                        0.0)
                        == 1.0);
        Map<String, Double> m = ApiClient.parseMetrics(api.get("/metrics").body());
        for (String phase : List.of("detection", "promotion", "publication")) {
            assertThat(m.get("baton_operation_phase_seconds_count{cluster=\"demo\",kind=\"failover\",phase=\"" + phase
                            + "\"}"))
                    .as(phase)
                    .isEqualTo(1.0);
        }
        assertThat(m.get("baton_probe_failures_total{cluster=\"demo\",node=\"" + primary + "\"}"))
                .isGreaterThanOrEqualTo(3.0);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ApiClient.parseMetrics(api.get("/metrics").body())
                                .get("baton_node_up{cluster=\"demo\",node=\"" + primary + "\"}")
                        == 0.0);
    }
}
