package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * On a real MariaDB server: a connection that hits the read-only error of a fenced node (1290) is never handed out
 * again; the next borrow gets a new physical connection.
 */
class MariaDbReadOnlyTest {
    @Test
    void readOnlyErrorOnMariaDbEvictsTheConnection() throws Exception {
        try (MariaDbSandbox sandbox = MariaDbSandbox.start(0);
                TestingServer zk = new TestingServer(true);
                CuratorFramework admin = RegistryClient.start(
                        zk.getConnectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            MariaDbNode db = sandbox.nodes().get(0);
            // An application account without READ ONLY ADMIN: read_only applies to it (it does not to 'baton').
            db.sql("CREATE TABLE baton.fenced_probe (id int);"
                    + " CREATE USER app@'%' IDENTIFIED BY 'app-secret-1';"
                    + " GRANT SELECT, INSERT ON baton.* TO app@'%';");
            admin.create()
                    .creatingParentsIfNeeded()
                    .forPath(
                            RegistryPaths.primary("orders"),
                            RegistryJson.write(new PrimaryRecord(
                                    "orders", "db1", "127.0.0.1", db.port(), "mariadb", 1, Instant.now())));
            try (FailoverDataSource ds = FailoverDataSource.builder()
                    .zookeeper(zk.getConnectString())
                    .cluster("orders")
                    .user("app")
                    .password("app-secret-1")
                    .database("baton")
                    .property("sslMode", "DISABLED")
                    .property("allowPublicKeyRetrieval", "true")
                    .hikari(c -> c.setMaximumPoolSize(1))
                    .build()) {
                long first;
                try (Connection c = ds.getConnection();
                        Statement s = c.createStatement()) {
                    first = connectionId(c);
                    s.executeUpdate("INSERT INTO fenced_probe VALUES (1)");
                    db.sql("SET GLOBAL read_only = ON"); // what fencing does
                    SQLException e = assertThrows(
                            SQLException.class, () -> s.executeUpdate("INSERT INTO fenced_probe VALUES (2)"));
                    assertThat(e.getErrorCode()).isEqualTo(1290);
                }
                db.sql("SET GLOBAL read_only = OFF");
                try (Connection c = ds.getConnection();
                        Statement s = c.createStatement()) {
                    assertThat(connectionId(c)).as("a new physical connection").isNotEqualTo(first);
                    s.executeUpdate("INSERT INTO fenced_probe VALUES (3)");
                }
            }
        }
    }

    private static long connectionId(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT CONNECTION_ID()")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
