package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** What MySQL and MariaDB share over MySQL Connector/J: connecting, literals, fencing, bounded waits. */
final class MySqlFamily {
    /** Session commands that are not client work: replication senders, internal daemons. */
    private static final String CLIENT_SESSIONS = "ID <> CONNECTION_ID() AND USER NOT IN ('system user',"
            + " 'event_scheduler') AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Killed')";

    private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
    private static final int ER_NO_SUCH_THREAD = 1094;

    private MySqlFamily() {}

    static Connection connect(ClusterConfig cluster, NodeConfig node, Duration timeout) throws SQLException {
        long millis = Math.max(1, timeout.toMillis());
        Properties props = new Properties();
        props.setProperty("user", cluster.user());
        props.setProperty("password", cluster.password());
        props.setProperty("connectTimeout", Long.toString(millis));
        props.setProperty("socketTimeout", Long.toString(millis + 1000));
        props.setProperty("sslMode", "DISABLED");
        props.setProperty("allowPublicKeyRetrieval", "true");
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("connectionAttributes", "program_name:baton-orchestrator");
        String url = "jdbc:mysql://" + node.host() + ":" + node.port() + "/" + cluster.database();
        return DriverManager.getConnection(url, props);
    }

    /** A statement that sends SQL as written: no JDBC escape processing of {@code {...}} inside literals. */
    static Statement statement(Connection c) throws SQLException {
        Statement st = c.createStatement();
        st.setEscapeProcessing(false);
        return st;
    }

    /**
     * {@code value} as a quoted string literal, for the statements that take no parameters (CHANGE MASTER TO):
     * quotes doubled, and backslashes doubled unless the session runs with NO_BACKSLASH_ESCAPES.
     */
    static String literal(Statement st, String value) throws SQLException {
        if (value.indexOf('\0') >= 0) {
            throw new SQLException("a value for CHANGE MASTER / REPLICATION SOURCE contains a NUL character");
        }
        String escaped = value.replace("'", "''");
        if (value.indexOf('\\') >= 0 && !noBackslashEscapes(st)) {
            escaped = escaped.replace("\\", "\\\\");
        }
        return "'" + escaped + "'";
    }

    private static boolean noBackslashEscapes(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** The one row of a {@code SHOW ... STATUS}, column label to value (empty when there is no row). */
    static Map<String, String> row(Statement st, String sql) throws SQLException {
        Map<String, String> row = new LinkedHashMap<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            if (rs.next()) {
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i), rs.getString(i));
                }
            }
        }
        return row;
    }

    static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /**
     * Waits up to {@code drain} for other client sessions to finish their running statements and transactions,
     * makes the node refuse writes with {@code readOnlyOn} and ends every other client session. When making it
     * read-only has to wait for a lock a client holds, the sessions are ended first and it is tried again.
     */
    static void fence(Connection c, Duration drain, List<String> readOnlyOn) throws SQLException {
        try (Statement st = statement(c)) {
            Instant deadline = Instant.now().plus(drain);
            while (Instant.now().isBefore(deadline) && busySessions(st) > 0) {
                pause(Duration.ofMillis(5), "draining client sessions");
            }
            st.execute("SET SESSION lock_wait_timeout = 1");
            try {
                for (String sql : readOnlyOn) {
                    st.execute(sql);
                }
            } catch (SQLException e) {
                if (e.getErrorCode() != ER_LOCK_WAIT_TIMEOUT) {
                    throw e;
                }
                killClientSessions(st);
                for (String sql : readOnlyOn) {
                    st.execute(sql);
                }
            }
            killClientSessions(st);
        }
    }

    private static long busySessions(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
                + CLIENT_SESSIONS + " AND COMMAND <> 'Sleep')"
                + " + (SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id <> CONNECTION_ID()"
                + " AND trx_mysql_thread_id IN (SELECT ID FROM information_schema.PROCESSLIST WHERE " + CLIENT_SESSIONS
                + "))")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void killClientSessions(Statement st) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT ID FROM information_schema.PROCESSLIST WHERE " + CLIENT_SESSIONS)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        for (long id : ids) {
            try {
                st.execute("KILL CONNECTION " + id);
            } catch (SQLException e) {
                if (e.getErrorCode() != ER_NO_SUCH_THREAD) {
                    throw e;
                }
            }
        }
    }

    /** One bounded wait on the server, e.g. {@code MASTER_GTID_WAIT}; returns its result. */
    interface ServerWait {
        long waitFor(double seconds) throws SQLException;
    }

    /**
     * Runs {@code wait} in slices short enough to finish within the connection's network timeout, until it returns
     * {@code done} or the deadline passes. True when it returned {@code done}.
     */
    static boolean awaitInSlices(Connection c, Instant deadline, long done, ServerWait wait) throws SQLException {
        long sliceMillis = c.getNetworkTimeout() > 0 ? Math.max(100, c.getNetworkTimeout() / 2) : 1000;
        while (true) {
            long left = Duration.between(Instant.now(), deadline).toMillis();
            // never 0: MySQL's WAIT_FOR_EXECUTED_GTID_SET waits forever for a timeout of 0
            double seconds = Math.max(1, Math.min(left, sliceMillis)) / 1000.0;
            if (wait.waitFor(seconds) == done) {
                return true;
            }
            if (left <= sliceMillis) {
                return false;
            }
        }
    }

    /**
     * Polls {@code show} (SHOW SLAVE / REPLICA STATUS) until both threads named by {@code io} and {@code sql} run;
     * throws naming {@code what}, the thread states and the last error when one stopped with an error or the
     * timeout passes.
     */
    static void awaitReplicating(Statement st, String show, String io, String sql, Duration timeout, String what)
            throws SQLException {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            Map<String, String> status = row(st, show);
            if ("Yes".equals(status.get(io)) && "Yes".equals(status.get(sql))) {
                return;
            }
            String error = blankToNull(status.get("Last_IO_Error"));
            error = error != null ? error : blankToNull(status.get("Last_SQL_Error"));
            boolean stopped = error != null && !"Connecting".equals(status.get(io));
            if (stopped || Instant.now().isAfter(deadline)) {
                throw new SQLException(what + ": replication "
                        + (stopped ? "stopped" : "is not running after " + timeout.toMillis() + " ms") + " (" + io + "="
                        + status.get(io) + ", " + sql + "="
                        + status.get(sql) + (error == null ? "" : ", error: " + error) + ")");
            }
            pause(Duration.ofMillis(20), what);
        }
    }

    static void pause(Duration d, String what) throws SQLException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while " + what, e);
        }
    }
}
