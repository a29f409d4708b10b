package dev.baton.sandbox;

import static dev.baton.sandbox.PostgresSandboxTest.connect;
import static dev.baton.sandbox.PostgresSandboxTest.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PostgresRejoinAndCloseTest {

    @Test
    void killedPrimaryRejoinsPromotedReplicaAndCloseLeavesNothingBehind() throws Exception {
        PostgresSandbox sandbox = PostgresSandbox.start(1);
        List<Long> pids;
        try {
            PgNode pg1 = sandbox.node("pg1");
            PgNode pg2 = sandbox.node("pg2");
            try (Connection c = connect(pg1);
                    Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t(id int primary key)");
                s.execute("INSERT INTO t VALUES (1)");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> count(pg2, "SELECT count(*) FROM t") == 1);

            pg1.kill();
            assertThat(pg2.sql("SELECT pg_promote()")).isEqualTo("t");
            assertThat(pg2.isInRecovery()).isFalse();

            pg1.rejoin(pg2);

            assertThat(pg1.isInRecovery()).isTrue();
            assertThat(pg1.walReceiverStatus()).isEqualTo("streaming");
            assertThat(pg2.sql("SELECT application_name FROM pg_stat_replication"))
                    .isEqualTo("pg1");
            try (Connection c = connect(pg2);
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO t VALUES (2)");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> count(pg1, "SELECT count(*) FROM t") == 2);
            pids = sandbox.nodes().stream().map(PgNode::pid).toList();
            assertThat(pids).allMatch(pid -> pid > 0);
        } finally {
            sandbox.close();
        }

        assertThat(sandbox.baseDir()).doesNotExist();
        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid)).isEmpty());
        sandbox.close(); // idempotent
    }

    @Test
    void rejoinOfACleanlyStoppedReplicaNeedsNoRewind() throws Exception {
        try (PostgresSandbox sandbox = PostgresSandbox.start(1)) {
            PgNode pg1 = sandbox.node("pg1");
            PgNode pg2 = sandbox.node("pg2");
            pg2.rejoin(pg1);
            assertThat(pg2.walReceiverStatus()).isEqualTo("streaming");
            assertThat(pg1.sql("SELECT count(*) FROM pg_stat_replication")).isEqualTo("1");
        }
    }
}
