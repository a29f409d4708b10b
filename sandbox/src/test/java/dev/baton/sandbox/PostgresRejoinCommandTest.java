package dev.baton.sandbox;

import static dev.baton.sandbox.PostgresSandboxTest.connect;
import static dev.baton.sandbox.PostgresSandboxTest.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rejoin script run the way Baton's orchestrator runs an operator's rejoin command: rendered, via /bin/sh -c. */
class PostgresRejoinCommandTest {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

    @Test
    void rejoinCommandTurnsTheOldPrimaryIntoAStandbyOfThePromotedReplica() throws Exception {
        PostgresSandbox sandbox = PostgresSandbox.start(2);
        List<Long> pids;
        try {
            PgNode pg1 = sandbox.node("pg1");
            PgNode pg2 = sandbox.node("pg2");
            createTableWithOneRow(pg1, pg2);
            pg1.sql("ALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_reload_conf();");
            assertThat(pg2.sql("SELECT pg_promote()")).isEqualTo("t");

            Exec.Result r = runRejoin(sandbox, pg1, pg2);

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output())
                    .contains("rejoin pg1: stopping")
                    .contains("rejoin pg1: pg_rewind:")
                    .contains("rejoin pg1: standby of 127.0.0.1:" + pg2.port());
            assertStreamsFrom(pg1, pg2, 2);
            long pid = pg1.pid();
            assertThat(pid).isPositive().isEqualTo(postmasterPid(pg1));
            assertThat(ProcessHandle.current().children().map(ProcessHandle::pid))
                    .doesNotContain(pid);

            pg1.pause();
            assertThat(processState(pid)).isEqualTo("T");
            pg1.resume();
            assertThat(processState(pid)).isNotEqualTo("T");
            pg1.kill();
            assertThat(pg1.isRunning()).isFalse();
            assertThat(pg1.pid()).isEqualTo(-1);
            assertThat(SandboxDir.isAlive(pid)).isFalse();

            pg1.start(); // a child of this JVM again, still a standby of pg2
            pg1.awaitStreaming(Duration.ofSeconds(30));
            assertThat(pg1.pid()).isNotEqualTo(pid);
            pids = sandbox.nodes().stream().map(PgNode::pid).toList();
        } finally {
            sandbox.close();
        }
        assertClosed(sandbox, pids);
    }

    @Test
    void rejoinCommandRecoversAKilledPrimaryAndCloseKillsTheServerItStarted() throws Exception {
        PostgresSandbox sandbox = PostgresSandbox.start(1);
        List<Long> pids;
        try {
            PgNode pg1 = sandbox.node("pg1");
            PgNode pg2 = sandbox.node("pg2");
            createTableWithOneRow(pg1, pg2);
            try (Connection c = connect(pg1);
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO t SELECT g FROM generate_series(100, 5000) g"); // unreplicated, maybe
            }
            pg1.kill();
            assertThat(pg2.sql("SELECT pg_promote()")).isEqualTo("t");

            Exec.Result r = runRejoin(sandbox, pg1, pg2);

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("rejoin pg1: cluster state is 'in production': finishing crash recovery");
            long rows = count(pg2, "SELECT count(*) FROM t") + 1;
            assertStreamsFrom(pg1, pg2, rows);
            assertThat(pg1.pid()).isEqualTo(postmasterPid(pg1));
            pids = sandbox.nodes().stream().map(PgNode::pid).toList();
            assertThat(pids).allMatch(pid -> pid > 0);
        } finally {
            sandbox.close(); // pg1 now runs detached: found through postmaster.pid
        }
        assertClosed(sandbox, pids);
    }

    @Test
    void rejoinCommandFailsWithAMessageAndLeavesTheNodeAloneWhenThePrimaryIsUnreachable() throws Exception {
        PostgresSandbox sandbox = PostgresSandbox.start(1);
        try {
            PgNode pg2 = sandbox.node("pg2");
            long pid = pg2.pid();
            int nobody = Ports.free(1).get(0);

            // neither the port nor the node named as the primary answers
            Exec.Result r = run(render(sandbox.rejoinCommand(), pg2, "pg7", nobody));

            assertThat(r.exitCode()).isNotZero();
            assertThat(r.output()).contains("rejoin pg2: cannot reach the new primary on port " + nobody);
            assertThat(pg2.pid()).isEqualTo(pid);
            assertThat(pg2.walReceiverStatus()).isEqualTo("streaming");

            Exec.Result unknown =
                    run(render(sandbox.rejoinCommand(), pg2, "pg1", pg2.port()).replace("'pg2'", "'pg9'"));
            assertThat(unknown.exitCode()).isNotZero();
            assertThat(unknown.output()).contains("rejoin pg9: no node 'pg9'").contains("pg1 pg2");

            Exec.Result itself = run(render(sandbox.rejoinCommand(), pg2, "pg2", pg2.port()));
            assertThat(itself.exitCode()).isNotZero();
            assertThat(itself.output()).contains("a node cannot follow itself");

            // a replica can rejoin its own primary (nothing to rewind); then the reaper's pid-file kill finds it
            PgNode pg1 = sandbox.node("pg1");
            Exec.Result same = runRejoin(sandbox, pg2, pg1);
            assertThat(same.exitCode()).as(same.output()).isZero();
            assertThat(pg2.walReceiverStatus()).isEqualTo("streaming");
            long detached = pg2.pid();
            assertThat(detached).isNotEqualTo(pid).isEqualTo(postmasterPid(pg2));
            SandboxDir.killServers(sandbox.baseDir());
            assertThat(SandboxDir.isAlive(detached)).isFalse();
            assertThat(pg2.isRunning()).isFalse();
            assertThat(pg1.isRunning()).isFalse();
        } finally {
            sandbox.close();
        }
        assertThat(sandbox.baseDir()).doesNotExist();
    }

    private static void createTableWithOneRow(PgNode primary, PgNode replica) throws Exception {
        try (Connection c = connect(primary);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t(id int primary key)");
            s.execute("INSERT INTO t VALUES (1)");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> count(replica, "SELECT count(*) FROM t") == 1);
    }

    private static void assertStreamsFrom(PgNode standby, PgNode primary, long rowsAfterInsert) throws Exception {
        assertThat(standby.isInRecovery()).isTrue();
        assertThat(standby.sql("SELECT status || ' ' || sender_port FROM pg_stat_wal_receiver"))
                .isEqualTo("streaming " + primary.port());
        assertThat(primary.sql("SELECT state FROM pg_stat_replication WHERE application_name = '" + standby.id() + "'"))
                .isEqualTo("streaming");
        assertThat(primary.sql("SELECT active FROM pg_replication_slots WHERE slot_name = '" + standby.id() + "'"))
                .isEqualTo("t");
        try (Connection c = connect(primary);
                Statement s = c.createStatement()) {
            s.execute("INSERT INTO t VALUES (2)");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> count(standby, "SELECT count(*) FROM t") == rowsAfterInsert);
    }

    private static void assertClosed(PostgresSandbox sandbox, List<Long> pids) {
        assertThat(sandbox.baseDir()).doesNotExist();
        // a zombie is gone too: a detached server's adoptive parent (PID 1 in a container) may never reap it
        assertThat(pids).allSatisfy(pid -> assertThat(SandboxDir.isAlive(pid)).isFalse());
    }

    private static Exec.Result runRejoin(PostgresSandbox sandbox, PgNode node, PgNode primary) {
        return run(render(sandbox.rejoinCommand(), node, primary.id(), primary.port()));
    }

    private static Exec.Result run(String command) {
        return Exec.run(List.of("/bin/sh", "-c", command), null, COMMAND_TIMEOUT, null);
    }

    /** As the orchestrator's RejoinCommand renders a template: every placeholder becomes a single-quoted value. */
    private static String render(String template, PgNode node, String primaryId, int primaryPort) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("{node}", node.id());
        values.put("{host}", node.host());
        values.put("{port}", Integer.toString(node.port()));
        values.put("{primaryNode}", primaryId);
        values.put("{primaryHost}", "127.0.0.1");
        values.put("{primaryPort}", Integer.toString(primaryPort));
        String rendered = template;
        for (Map.Entry<String, String> e : values.entrySet()) {
            rendered = rendered.replace(e.getKey(), "'" + e.getValue().replace("'", "'\"'\"'") + "'");
        }
        return rendered;
    }

    private static long postmasterPid(PgNode node) throws Exception {
        return Long.parseLong(Files.readAllLines(node.dataDir().resolve("postmaster.pid"))
                .get(0)
                .strip());
    }

    private static String processState(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    }
}
