package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MariaDbSandboxTest {

    @Test
    void replicatesARowKillsAndRestartsAndCleansUp() throws Exception {
        MariaDbSandbox sandbox = MariaDbSandbox.start(2);
        List<Long> pids;
        try {
            assertThat(sandbox.nodes()).extracting(SandboxNode::id).containsExactly("db1", "db2", "db3");
            MariaDbNode db1 = sandbox.node("db1");
            try (Connection c = connect(sandbox, db1);
                    Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t(id int primary key)");
                s.execute("INSERT INTO t VALUES (1)");
            }
            for (String id : List.of("db2", "db3")) {
                MariaDbNode replica = sandbox.node(id);
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> count(sandbox, replica, "SELECT count(*) FROM t") == 1);
                assertThat(replica.sql("SELECT @@read_only")).isEqualTo("1");
            }

            MariaDbNode db2 = sandbox.node("db2");
            long pid = db2.pid();
            db2.kill();
            assertThat(db2.isRunning()).isFalse();
            assertThat(ProcessHandle.of(pid)).isEmpty();
            assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress(db2.host(), db2.port()), 1000))
                    .hasMessageContaining("refused");
            try (Connection c = connect(sandbox, db1);
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO t VALUES (2)");
            }
            db2.start();
            db2.awaitReplicating(Duration.ofSeconds(30));
            await().atMost(Duration.ofSeconds(10)).until(() -> count(sandbox, db2, "SELECT count(*) FROM t") == 2);
            pids = sandbox.nodes().stream().map(MariaDbNode::pid).toList();
        } finally {
            sandbox.close();
        }
        assertThat(sandbox.baseDir()).doesNotExist();
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).isEmpty());
    }

    private static Connection connect(MariaDbSandbox sandbox, MariaDbNode node) throws SQLException {
        return DriverManager.getConnection(node.jdbcUrl() + "?connectTimeout=5000", sandbox.user(), sandbox.password());
    }

    private static long count(MariaDbSandbox sandbox, MariaDbNode node, String sql) throws SQLException {
        try (Connection c = connect(sandbox, node);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
