package dev.baton.orchestrator.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.select.CandidateSelector;
import dev.baton.orchestrator.select.Selection;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The settings Baton requires of a MariaDB cluster and that MariaDB leaves off (gtid_strict_mode, log_slave_updates),
 * on real servers both ways: at MariaDB's defaults a replica is shown with the reason and never promoted; with the
 * settings on it is a candidate.
 */
class MariaDbRequiredSettingsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aReplicaWithoutTheRequiredSettingsIsNeverPromotedAndSaysWhy(boolean settingsOn) throws Exception {
        try (MariaDbSandbox sandbox = MariaDbSandbox.builder()
                .replicas(1)
                .requiredSettings(settingsOn)
                .start()) {
            StringBuilder nodes = new StringBuilder();
            for (MariaDbNode n : sandbox.nodes()) {
                nodes.append("      - { id: ")
                        .append(n.id())
                        .append(", host: 127.0.0.1, port: ")
                        .append(n.port())
                        .append(" }\n");
            }
            ClusterConfig cluster = new ConfigLoader(Map.of("PW", sandbox.password())::get)
                    .parse(
                            "zookeeper: { connect: \"127.0.0.1:2181\" }\nclusters:\n  - name: test\n"
                                    + "    dialect: mariadb\n    user: " + sandbox.user() + "\n    password: ${PW}\n"
                                    + "    nodes:\n" + nodes,
                            "test.yml")
                    .cluster("test")
                    .orElseThrow();
            Dialect dialect = Dialects.forCluster(cluster);
            sandbox.node("db1").sql("CREATE TABLE baton.t (id int PRIMARY KEY); INSERT INTO baton.t VALUES (1)");
            List<NodeObservation> seen = new ArrayList<>();
            await().atMost(TIMEOUT).untilAsserted(() -> {
                seen.clear();
                for (var n : cluster.nodes()) {
                    try (Connection c = dialect.connect(n, TIMEOUT)) {
                        seen.add(dialect.observe(c, n, Instant.now()));
                    }
                }
                assertThat(seen.get(1).streaming()).isTrue();
            });
            NodeObservation replica = seen.get(1);
            Selection selection = new CandidateSelector(dialect)
                    .select(new Topology("test", Instant.now(), seen), Set.of("db1"), null, -1, false, null);
            if (settingsOn) {
                assertThat(replica.replicaHealthy()).isTrue();
                assertThat(replica.error()).isNull();
                assertThat(selection.chosen()).map(NodeObservation::id).hasValue("db2");
            } else {
                assertThat(replica.replicaHealthy()).isFalse();
                assertThat(replica.error())
                        .contains("gtid_strict_mode and log_slave_updates OFF")
                        .contains("docs/operations.md");
                assertThat(selection.chosen()).isEmpty();
                assertThat(selection.rejected())
                        .anySatisfy(r -> assertThat(r.reason()).contains("gtid_strict_mode"));
            }
        }
    }
}
