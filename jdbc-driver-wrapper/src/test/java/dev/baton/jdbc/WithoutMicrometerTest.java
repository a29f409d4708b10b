package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: the wrapper loads, hands out connections and fails them without it. Run by the
 * {@code without-micrometer} Surefire execution, whose class path lacks micrometer-core (see the module's pom).
 */
class WithoutMicrometerTest {
    @Test
    void wrapperWorksWithoutMicrometerOnTheClassPath() throws Exception {
        assertThrows(
                ClassNotFoundException.class,
                () -> Class.forName("io.micrometer.core.instrument.MeterRegistry"),
                "this test must run without micrometer-core on the class path");
        try (PostgresSandbox pg = PostgresSandbox.builder()
                        .replicas(0)
                        .user("baton")
                        .password("no-micrometer")
                        .start();
                EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
                CuratorFramework admin = RegistryClient.start(
                        zk.connectString(),
                        RegistryPaths.DEFAULT_NAMESPACE,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(3))) {
            PgNode node = pg.nodes().get(0);
            admin.create()
                    .creatingParentsIfNeeded()
                    .forPath(
                            RegistryPaths.primary("orders"),
                            RegistryJson.write(new PrimaryRecord(
                                    "orders", "a", "127.0.0.1", node.port(), "postgresql", 1, Instant.now())));
            try (FailoverDataSource ds = FailoverDataSource.builder()
                            .zookeeper(zk.connectString())
                            .cluster("orders")
                            .user("baton")
                            .password("no-micrometer")
                            .database("postgres")
                            .build();
                    Connection c = ds.getConnection();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(node.port());
            }
        }
    }
}
