package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresSandboxTest {
    private PostgresSandbox sandbox;

    @BeforeAll
    void startCluster() throws Exception {
        sandbox = PostgresSandbox.start(2);
    }

    @AfterAll
    void closeCluster() {
        if (sandbox != null) {
            sandbox.close();
        }
    }

    @Test
    void startsPrimaryAndTwoStreamingReplicas() {
        assertThat(sandbox.nodes()).extracting(SandboxNode::id).containsExactly("pg1", "pg2", "pg3");
        assertThat(sandbox.node("pg1").isInRecovery()).isFalse();
        assertThat(sandbox.node("pg2").walReceiverStatus()).isEqualTo("streaming");
        assertThat(sandbox.node("pg3").walReceiverStatus()).isEqualTo("streaming");
        assertThat(sandbox.node("pg1")
                        .sql("SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots"))
                .isEqualTo("pg2,pg3");
        assertThat(sandbox.nodes()).allSatisfy(n -> assertThat(n.port()).isNotIn(5432, 3306));
    }

    @Test
    void rowWrittenOnPrimaryAppearsOnBothReplicas() throws Exception {
        try (Connection c = connect(sandbox.node("pg1"));
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS replicated(id int primary key)");
            s.execute("INSERT INTO replicated VALUES (42)");
        }
        for (String id : new String[] {"pg2", "pg3"}) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> count(sandbox.node(id), "SELECT count(*) FROM replicated WHERE id = 42") == 1);
        }
    }

    @Test
    void userNeedsItsPasswordOverTcp() {
        PgNode pg1 = sandbox.node("pg1");
        Properties wrong = new Properties();
        wrong.setProperty("user", sandbox.user());
        wrong.setProperty("password", "wrong");
        assertThatThrownBy(
                        () -> DriverManager.getConnection(pg1.jdbcUrl(), wrong).close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");
    }

    @Test
    void killedReplicaRefusesConnectionsAndStartBringsItBack() throws Exception {
        PgNode pg3 = sandbox.node("pg3");
        long pid = pg3.pid();
        pg3.kill();
        assertThat(pg3.isRunning()).isFalse();
        assertThat(pg3.pid()).isEqualTo(-1);
        assertThat(ProcessHandle.of(pid)).isEmpty();
        assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress(pg3.host(), pg3.port()), 1000))
                .hasMessageContaining("refused");

        pg3.start();
        assertThat(pg3.pid()).isPositive().isNotEqualTo(pid);
        assertThat(count(pg3, "SELECT 1")).isEqualTo(1);
        pg3.awaitStreaming(Duration.ofSeconds(30));
    }

    @Test
    void pausedServerHangsUntilResumed() throws Exception {
        PgNode pg2 = sandbox.node("pg2");
        pg2.pause();
        try {
            CompletableFuture<Long> query = CompletableFuture.supplyAsync(() -> {
                try {
                    return count(pg2, "SELECT 1");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> !query.isDone());
            pg2.resume();
            assertThat(query.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
        } finally {
            pg2.resume();
        }
    }

    @Test
    void writesOwnerPidAndLogs() throws Exception {
        assertThat(Files.readString(sandbox.baseDir().resolve("owner.pid")).strip())
                .isEqualTo(Long.toString(ProcessHandle.current().pid()));
        assertThat(sandbox.node("pg1").logFile()).exists();
        assertThat(Files.readString(sandbox.node("pg1").logFile())).doesNotContain(sandbox.password());
    }

    static Connection connect(PgNode node) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "baton");
        p.setProperty("password", "baton-sandbox-secret");
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(node.jdbcUrl(), p);
    }

    static long count(PgNode node, String sql) throws SQLException {
        try (Connection c = connect(node);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
