package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The status page in a real headless Chromium against a running sandbox cluster: it shows the primary and both
 * replicas, and, refreshing on its own, the new primary after a switchover. Screenshots land in bench/target.
 */
class StatusPageTest {
    /** What the page shows, read from its DOM: the primary's name and each member's role and state. */
    private static final String READ_PAGE =
            """
            JSON.stringify({
              primary: (document.querySelector('[data-cluster="demo"] .primary') || {}).textContent || null,
              members: [...document.querySelectorAll('[data-cluster="demo"] tr[data-member]')].map(r => ({
                member: r.dataset.member, role: r.dataset.role, state: r.querySelector('.state').textContent })),
              topology: [...document.querySelectorAll('[data-topology-member]')].map(t => t.textContent),
              history: document.querySelectorAll('[data-history]').length,
              plotted: document.querySelectorAll('polyline').length
            })""";

    @Test
    void showsThePrimaryAndBothReplicasAndFollowsASwitchover() throws Exception {
        Path chromium = HeadlessChromium.binary();
        Assumptions.assumeTrue(
                chromium != null, "no chromium installed (.ci/run installs Debian's package 'chromium')");
        try (FailoverScenario scenario = FailoverScenario.prepare("postgresql", step -> {})) {
            PrimaryRecord first = scenario.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            String other = first.nodeId().equals("pg2") ? "pg3" : "pg2";
            ApiClient api = new ApiClient(scenario.apiUrl(), scenario.apiToken());
            try (HeadlessChromium browser = new HeadlessChromium(chromium)) {
                browser.navigate(scenario.apiUrl() + "/");
                JsonNode before = await().atMost(Duration.ofSeconds(30))
                        .until(
                                () -> read(browser),
                                page -> page.path("members").findValuesAsText("state").stream()
                                                .filter(s -> s.equals("streaming"))
                                                .count()
                                        == 2);
                assertThat(before.path("primary").asText()).isEqualTo(first.nodeId());
                assertThat(before.path("members").findValuesAsText("member")).containsExactly("pg1", "pg2", "pg3");
                assertThat(before.path("members").findValuesAsText("role"))
                        .containsExactlyInAnyOrder("Leader", "Replica", "Replica");
                assertThat(before.path("topology").toString()).contains(first.nodeId() + " (primary)");
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> read(browser).path("plotted").asInt() == 2);
                Path shot = Path.of("target", "status-page.png");
                browser.screenshot(shot);
                assertThat(Files.size(shot)).isGreaterThan(10_000);

                ApiClient.Response done =
                        api.post("/clusters/demo/switchover?wait=true", "{\"to\": \"" + other + "\"}");
                assertThat(done.status()).as(done.body()).isEqualTo(200);

                // no reload: the page refreshes itself
                JsonNode after = await().atMost(Duration.ofSeconds(30))
                        .until(
                                () -> read(browser),
                                page -> page.path("primary").asText().equals(other)
                                        && page.path("history").asInt() == 1);
                assertThat(after.path("topology").toString()).contains(other + " (primary)");
                browser.screenshot(Path.of("target", "status-page-after-switchover.png"));
            }
        }
    }

    private static JsonNode read(HeadlessChromium browser) throws Exception {
        String json = browser.evaluate(READ_PAGE);
        return RegistryJson.mapper().readTree(json);
    }
}
