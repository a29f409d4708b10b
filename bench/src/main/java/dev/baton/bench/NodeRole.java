package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Set;

/**
 * What a server says about itself over plain JDBC, bypassing Baton: whether it replicates from another node, and
 * whether it refuses writes.
 *
 * @param replica PostgreSQL: in recovery; MariaDB: a replication source is configured ({@code SHOW SLAVE STATUS}
 *     has a row)
 * @param readOnly PostgreSQL: in recovery or {@code default_transaction_read_only} on; MariaDB: {@code @@read_only}
 */
record NodeRole(boolean replica, boolean readOnly) {
    /** Running as primary and accepting writes. */
    boolean writablePrimary() {
        return !replica && !readOnly;
    }

    /**
     * Asks the server; empty when it does not answer within a few seconds (killed, hung, restarting). Each call
     * opens its own connection, so that what it reports is the server's setting, not a session's.
     */
    static Optional<NodeRole> read(LocalCluster cluster, SandboxNode node) {
        boolean pg = cluster.dialect().equals("postgresql");
        try (Connection c = connect(cluster, node);
                Statement st = c.createStatement()) {
            return Optional.of(pg ? postgres(st) : mariadb(st));
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /** The ids in the workload's table; empty when the server does not answer. */
    static Optional<Set<Long>> rows(LocalCluster cluster, SandboxNode node) {
        Set<Long> ids = new HashSet<>();
        try (Connection c = connect(cluster, node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(WorkloadSql.of(cluster.dialect()).selectIds)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return Optional.of(ids);
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /**
     * The port a replica receives from (PostgreSQL: a streaming WAL receiver's sender port; MariaDB: the master port
     * while the IO thread runs); empty when it does not receive or does not answer.
     */
    static OptionalInt sourcePort(LocalCluster cluster, SandboxNode node) {
        boolean pg = cluster.dialect().equals("postgresql");
        try (Connection c = connect(cluster, node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        pg
                                ? "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'"
                                : "SHOW SLAVE STATUS")) {
            if (!rs.next()) {
                return OptionalInt.empty();
            }
            if (pg) {
                return OptionalInt.of(rs.getInt(1));
            }
            return "Yes".equals(rs.getString("Slave_IO_Running"))
                    ? OptionalInt.of(rs.getInt("Master_Port"))
                    : OptionalInt.empty();
        } catch (SQLException e) {
            return OptionalInt.empty();
        }
    }

    /** Its own connection with short timeouts, so that what it reports is the server's setting, not a session's. */
    private static Connection connect(LocalCluster cluster, SandboxNode node) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", cluster.user());
        props.setProperty("password", cluster.password());
        if (cluster.dialect().equals("postgresql")) { // seconds
            props.setProperty("connectTimeout", "2");
            props.setProperty("loginTimeout", "3");
            props.setProperty("socketTimeout", "3");
        } else { // milliseconds
            props.setProperty("connectTimeout", "2000");
            props.setProperty("socketTimeout", "3000");
            props.setProperty("sslMode", "DISABLED");
        }
        return DriverManager.getConnection(node.jdbcUrl(), props);
    }

    private static NodeRole postgres(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery(
                "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only') = 'on'")) {
            rs.next();
            boolean inRecovery = rs.getBoolean(1);
            return new NodeRole(inRecovery, inRecovery || rs.getBoolean(2));
        }
    }

    private static NodeRole mariadb(Statement st) throws SQLException {
        boolean replica;
        try (ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            replica = rs.next();
        }
        try (ResultSet rs = st.executeQuery("SELECT @@read_only")) {
            rs.next();
            return new NodeRole(replica, rs.getBoolean(1));
        }
    }
}
