package dev.baton.orchestrator.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.registry.NodeRole;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.MySQLContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The MySQL dialect on two real MySQL 8.4 servers in containers (a source and a replica on one Docker network).
 * Skipped where no Docker engine is available. Nodes are seen twice: from this JVM through the mapped ports
 * (to connect) and from the other container through the network alias (what replication is pointed at).
 */
@Testcontainers(disabledWithoutDocker = true)
class MySqlDialectContainerTest {
    private static final String PASSWORD = "baton-mysql-secret";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Network NETWORK = Network.newNetwork();

    @Container
    private final MySQLContainer<?> source = server("mysql-a", 1);

    @Container
    private final MySQLContainer<?> replica = server("mysql-b", 2);

    private static MySQLContainer<?> server(String alias, int serverId) {
        return new MySQLContainer<>(DockerImageName.parse("mysql:8.4"))
                .withNetwork(NETWORK)
                .withNetworkAliases(alias)
                .withUsername("root")
                .withPassword(PASSWORD)
                .withCommand(
                        "--server-id=" + serverId,
                        "--gtid-mode=ON",
                        "--enforce-gtid-consistency=ON",
                        "--log-replica-updates=ON",
                        "--skip-name-resolve");
    }

    @Test
    void probesFencesPromotesAndRejoinsOverGtidAutoPositioning() throws Exception {
        ClusterConfig cluster = cluster();
        MySqlDialect dialect = (MySqlDialect) Dialects.forCluster(cluster);
        NodeConfig a = cluster.node("a").orElseThrow();
        NodeConfig b = cluster.node("b").orElseThrow();
        NodeConfig aInNetwork = new NodeConfig("a", "mysql-a", 3306, 0, false);
        NodeConfig bInNetwork = new NodeConfig("b", "mysql-b", 3306, 0, false);

        try (Connection ca = dialect.connect(a, TIMEOUT);
                Connection cb = dialect.connect(b, TIMEOUT)) {
            // b becomes a read-only replica of a
            dialect.fence(cb);
            dialect.repoint(cb, b, aInNetwork, "root");
            execute(
                    ca,
                    "CREATE DATABASE baton",
                    "CREATE TABLE baton.t (id int PRIMARY KEY)",
                    "INSERT INTO baton.t VALUES (1)");
            Position written = dialect.currentPosition(ca);
            assertThat(dialect.awaitPosition(cb, written, Instant.now().plus(TIMEOUT)))
                    .isTrue();
            assertThat(dialect.awaitApplied(cb, Instant.now().plus(TIMEOUT))).isTrue();

            NodeObservation primary = dialect.observe(ca, a, Instant.now());
            assertThat(primary.role()).isEqualTo(NodeRole.PRIMARY);
            assertThat(primary.readOnly()).isFalse();
            NodeObservation follower = dialect.observe(cb, b, Instant.now());
            assertThat(follower.role()).isEqualTo(NodeRole.REPLICA);
            assertThat(follower.readOnly()).isTrue();
            assertThat(follower.streaming()).isTrue();
            assertThat(follower.replicaHealthy()).isTrue();
            assertThat(follower.upstream()).isEqualTo("mysql-a:3306");
            assertThat(dialect.compare(follower.received(), primary.received())).isZero();
            assertThat(dialect.distance(primary.received(), follower.applied())).isZero();
            assertThat(dialect.errantCount(follower.applied(), primary.received()))
                    .isZero();

            // a planned switchover: fence a (its other sessions end), b catches up and is promoted, a rejoins
            try (Connection client = dialect.connect(a, TIMEOUT)) {
                dialect.fence(ca, Duration.ofMillis(500));
                assertThatThrownBy(() -> execute(client, "SELECT 1")).isInstanceOf(SQLException.class);
            }
            assertThatThrownBy(() -> execute(ca, "INSERT INTO baton.t VALUES (2)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e ->
                            assertThat(SqlFailures.isReadOnly((SQLException) e)).isTrue());
            Position last = dialect.currentPosition(ca);
            assertThat(dialect.awaitPosition(cb, last, Instant.now().plus(TIMEOUT)))
                    .isTrue();
            dialect.promote(cb, b, TIMEOUT);
            dialect.rejoin(ca, a, bInNetwork);
            execute(cb, "INSERT INTO baton.t VALUES (3)");
            Position afterPromotion = dialect.currentPosition(cb);
            assertThat(dialect.awaitPosition(ca, afterPromotion, Instant.now().plus(TIMEOUT)))
                    .isTrue();

            assertThat(dialect.observe(cb, b, Instant.now()).role()).isEqualTo(NodeRole.PRIMARY);
            await().atMost(TIMEOUT).untilAsserted(() -> {
                NodeObservation rejoined = dialect.observe(ca, a, Instant.now());
                assertThat(rejoined.role()).isEqualTo(NodeRole.REPLICA);
                assertThat(rejoined.streaming()).isTrue();
                assertThat(rejoined.readOnly()).isTrue();
                assertThat(rejoined.upstream()).isEqualTo("mysql-b:3306");
            });

            // a write made directly on the replica (a former primary: its UUID is in the primary's set) is errant
            Position primaryLast = dialect.observe(cb, b, Instant.now()).received();
            execute(ca, "SET GLOBAL super_read_only = OFF", "CREATE TABLE baton.local (id int PRIMARY KEY)");
            execute(ca, "SET GLOBAL super_read_only = ON");
            NodeObservation errant = dialect.observe(ca, a, Instant.now());
            assertThat(dialect.errantCount(errant.applied(), primaryLast)).isEqualTo(1);
        }
    }

    private ClusterConfig cluster() {
        String yaml = "zookeeper: { connect: \"127.0.0.1:2181\" }\n"
                + "clusters:\n"
                + "  - name: test\n"
                + "    dialect: mysql\n"
                + "    user: root\n"
                + "    password: ${PW}\n"
                + "    rejoinTimeout: 20s\n"
                + "    nodes:\n"
                + "      - { id: a, host: " + source.getHost() + ", port: " + source.getMappedPort(3306) + " }\n"
                + "      - { id: b, host: " + replica.getHost() + ", port: " + replica.getMappedPort(3306) + " }\n";
        return new ConfigLoader(Map.of("PW", PASSWORD)::get)
                .parse(yaml, "test.yml")
                .cluster("test")
                .orElseThrow();
    }

    private static void execute(Connection c, String... statements) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }
}
