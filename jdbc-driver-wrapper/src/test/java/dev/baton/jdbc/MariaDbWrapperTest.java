package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On a real MariaDB server: a connection that hits the read-only error of a fenced node (1290) is never handed out
 * again, and a wrong password fails a borrow at once with the server's 1045 instead of after the pool timeout.
 */
class MariaDbWrapperTest {
    private static MariaDbSandbox sandbox;
    private static MariaDbNode db;
    private static EmbeddedZooKeeper zk;
    private static CuratorFramework admin;

    /** JUnit runs {@link #stop()} also when this fails half way. */
    @BeforeAll
    static void start() throws Exception {
        sandbox = MariaDbSandbox.start(0);
        db = sandbox.nodes().get(0);
        // An application account without READ ONLY ADMIN: read_only applies to it (it does not to 'baton').
        db.sql("CREATE TABLE baton.fenced_probe (id int);"
                + " CREATE USER app@'%' IDENTIFIED BY 'app-secret-1';"
                + " GRANT SELECT, INSERT ON baton.* TO app@'%';");
        zk = EmbeddedZooKeeper.start();
        admin = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(
                        RegistryPaths.primary("orders"),
                        RegistryJson.write(new PrimaryRecord(
                                "orders", "db1", "127.0.0.1", db.port(), "mariadb", 1, Instant.now())));
    }

    @AfterAll
    static void stop() throws Exception {
        try (MariaDbSandbox s = sandbox;
                EmbeddedZooKeeper z = zk;
                CuratorFramework a = admin) {
            // closed in reverse order, also when one of them was never started
        }
    }

    @Test
    void readOnlyErrorOnMariaDbEvictsTheConnection() throws Exception {
        try (FailoverDataSource ds = dataSource("app-secret-1")) {
            long first;
            try (Connection c = ds.getConnection();
                    Statement s = c.createStatement()) {
                first = connectionId(c);
                s.executeUpdate("INSERT INTO fenced_probe VALUES (1)");
                db.sql("SET GLOBAL read_only = ON"); // what fencing does
                SQLException e =
                        assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO fenced_probe VALUES (2)"));
                assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NOT_RUN);
                assertThat(((SQLException) e.getCause()).getErrorCode()).isEqualTo(1290);
            } finally {
                db.sql("SET GLOBAL read_only = OFF");
            }
            try (Connection c = ds.getConnection();
                    Statement s = c.createStatement()) {
                assertThat(connectionId(c)).as("a new physical connection").isNotEqualTo(first);
                s.executeUpdate("INSERT INTO fenced_probe VALUES (3)");
            }
        }
    }

    @Test
    void wrongPasswordOnMariaDbFailsAtOnceWith1045() throws Exception {
        try (FailoverDataSource ds = dataSource("not-app-secret-9")) {
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, ds::getConnection);
            long tookMs = (System.nanoTime() - start) / 1_000_000;

            assertThat(tookMs).as("well under the 30 s connectionTimeout").isLessThan(10_000);
            assertThat(e.getSQLState()).isEqualTo("28000");
            assertThat(e.getErrorCode()).isEqualTo(1045);
            assertThat(e.getMessage()).contains("node 'db1'", "error 1045").doesNotContain("not-app-secret-9");
            assertThat(e.getCause()).hasMessageContaining("Access denied");
        }
    }

    private static FailoverDataSource dataSource(String password) {
        return FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster("orders")
                .user("app")
                .password(password)
                .database("baton")
                .property("sslMode", "DISABLED")
                .property("allowPublicKeyRetrieval", "true")
                .hikari(c -> {
                    c.setMaximumPoolSize(1);
                    c.setConnectionTimeout(30_000);
                })
                .build();
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
