package dev.baton.orchestrator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The orchestrators' configuration in docker-compose.yml is one Baton accepts. */
class ComposeConfigTest {
    @Test
    void dockerComposeOrchestratorConfigurationIsValid() {
        BatonConfig config = new ConfigLoader(Map.of(
                        "BATON_ORCHESTRATOR_ID", "orchestrator1",
                        "BATON_API_TOKEN", "change-me-demo-token-0123456789",
                        "BATON_PASSWORD", "baton-demo")::get)
                .read(Path.of("..", "docker", "baton.yml"));
        assertThat(config.orchestratorId()).isEqualTo("orchestrator1");
        assertThat(config.http().address()).isEqualTo("0.0.0.0");
        assertThat(config.http().port()).isEqualTo(8008);
        assertThat(config.clusters().get(0).nodes()).hasSize(3);
    }
}
