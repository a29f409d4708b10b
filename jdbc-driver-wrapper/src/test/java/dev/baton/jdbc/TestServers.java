package dev.baton.jdbc;

import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Two standalone servers of one dialect (old and new primary) for wrapper tests, an application account the
 * fence applies to, and the SQL that fences a node the way Baton's orchestrator does.
 */
abstract class TestServers implements AutoCloseable {
    @Override
    public abstract void close();

    static final String APP_USER = "app";
    static final String APP_PASSWORD = "app-secret-" + Long.toHexString(System.nanoTime());
    /** PostgreSQL application_name / the MariaDB account: how the fence finds the application's sessions. */
    static final String APP_NAME = "baton-held-test";

    final String dialect;

    TestServers(String dialect) {
        this.dialect = dialect;
    }

    static TestServers start(String dialect) throws Exception {
        return dialect.equals("postgresql") ? new Pg() : new Maria();
    }

    abstract SandboxNode a();

    abstract SandboxNode b();

    abstract String sql(SandboxNode node, String sql);

    /** Read-only for the application, and every application session ended: Baton's fence. */
    abstract void fence(SandboxNode node);

    abstract void unfence(SandboxNode node);

    /** Ends the application's sessions (pg_terminate_backend / KILL) without making the node read-only. */
    abstract void endSessions(SandboxNode node);

    abstract String database();

    /** Driver properties the application's data source needs. */
    abstract String[] driverProperties();

    abstract int port(Connection c) throws SQLException;

    /** An autocommit write that takes about {@code seconds} on the server. */
    abstract String slowInsert(long id, int seconds);

    PrimaryRecord record(String id, SandboxNode node, long epoch, String cluster) {
        return new PrimaryRecord(cluster, id, "127.0.0.1", node.port(), dialect, epoch, Instant.now());
    }

    long count(SandboxNode node, long id) {
        return Long.parseLong(sql(node, "SELECT count(*) FROM " + table() + " WHERE id = " + id));
    }

    String table() {
        return dialect.equals("postgresql") ? "public.held" : "baton.held";
    }

    static String one(Connection c, String query) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static final class Pg extends TestServers {
        private final PostgresSandbox sandboxA;
        private final PostgresSandbox sandboxB;

        Pg() throws Exception {
            super("postgresql");
            sandboxA = PostgresSandbox.start(0);
            PostgresSandbox second = null;
            try {
                second = PostgresSandbox.start(0);
                for (PgNode n : List.of(sandboxA.nodes().get(0), second.nodes().get(0))) {
                    n.sql("CREATE ROLE " + APP_USER + " LOGIN PASSWORD '" + APP_PASSWORD + "';"
                            + " CREATE TABLE held (id bigint PRIMARY KEY); GRANT ALL ON held TO " + APP_USER + ";"
                            + " CREATE SCHEMA kept AUTHORIZATION " + APP_USER + ";");
                }
            } catch (Exception | Error e) {
                sandboxA.close();
                if (second != null) {
                    second.close();
                }
                throw e;
            }
            sandboxB = second;
        }

        @Override
        SandboxNode a() {
            return sandboxA.nodes().get(0);
        }

        @Override
        SandboxNode b() {
            return sandboxB.nodes().get(0);
        }

        @Override
        String sql(SandboxNode node, String sql) {
            return ((PgNode) node).sql(sql);
        }

        @Override
        void fence(SandboxNode node) {
            sql(node, "ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf();");
            endSessions(node);
        }

        @Override
        void unfence(SandboxNode node) {
            sql(node, "ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf();");
        }

        @Override
        void endSessions(SandboxNode node) {
            sql(node, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + APP_USER + "'");
        }

        @Override
        String database() {
            return "postgres";
        }

        @Override
        String[] driverProperties() {
            return new String[] {"ApplicationName", APP_NAME};
        }

        @Override
        int port(Connection c) throws SQLException {
            return Integer.parseInt(one(c, "SELECT inet_server_port()"));
        }

        @Override
        String slowInsert(long id, int seconds) {
            return "INSERT INTO held SELECT " + id + " FROM pg_sleep(" + seconds + ")";
        }

        @Override
        public void close() {
            try {
                sandboxA.close();
            } finally {
                sandboxB.close();
            }
        }
    }

    private static final class Maria extends TestServers {
        private final MariaDbSandbox sandboxA;
        private final MariaDbSandbox sandboxB;

        Maria() throws Exception {
            super("mariadb");
            sandboxA = MariaDbSandbox.start(0);
            MariaDbSandbox second = null;
            try {
                second = MariaDbSandbox.start(0);
                for (MariaDbNode n :
                        List.of(sandboxA.nodes().get(0), second.nodes().get(0))) {
                    // without READ ONLY ADMIN / SUPER: read_only applies to this account
                    n.sql("CREATE TABLE baton.held (id bigint PRIMARY KEY); CREATE DATABASE kept;"
                            + " CREATE USER " + APP_USER + "@'%' IDENTIFIED BY '" + APP_PASSWORD + "';"
                            + " GRANT SELECT, INSERT ON baton.* TO " + APP_USER + "@'%';"
                            + " GRANT SELECT ON kept.* TO " + APP_USER + "@'%';");
                }
            } catch (Exception | Error e) {
                sandboxA.close();
                if (second != null) {
                    second.close();
                }
                throw e;
            }
            sandboxB = second;
        }

        @Override
        SandboxNode a() {
            return sandboxA.nodes().get(0);
        }

        @Override
        SandboxNode b() {
            return sandboxB.nodes().get(0);
        }

        @Override
        String sql(SandboxNode node, String sql) {
            return ((MariaDbNode) node).sql(sql);
        }

        @Override
        void fence(SandboxNode node) {
            sql(node, "SET GLOBAL read_only = ON");
            endSessions(node);
        }

        @Override
        void unfence(SandboxNode node) {
            sql(node, "SET GLOBAL read_only = OFF");
        }

        @Override
        void endSessions(SandboxNode node) {
            String ids = sql(node, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '" + APP_USER + "'");
            for (String id :
                    Arrays.stream(ids.split("\\s+")).filter(s -> !s.isBlank()).toList()) {
                sql(node, "KILL " + id);
            }
        }

        @Override
        String database() {
            return "baton";
        }

        @Override
        String[] driverProperties() {
            return new String[] {"sslMode", "DISABLED", "allowPublicKeyRetrieval", "true"};
        }

        @Override
        int port(Connection c) throws SQLException {
            return Integer.parseInt(one(c, "SELECT @@port"));
        }

        @Override
        String slowInsert(long id, int seconds) {
            return "INSERT INTO held SELECT " + id + " FROM DUAL WHERE SLEEP(" + seconds + ") = 0";
        }

        @Override
        public void close() {
            try {
                sandboxA.close();
            } finally {
                sandboxB.close();
            }
        }
    }
}
