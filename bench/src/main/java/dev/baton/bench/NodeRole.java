package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;

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
        Properties props = new Properties();
        props.setProperty("user", cluster.user());
        props.setProperty("password", cluster.password());
        if (pg) { // seconds
            props.setProperty("connectTimeout", "2");
            props.setProperty("loginTimeout", "3");
            props.setProperty("socketTimeout", "3");
        } else { // milliseconds
            props.setProperty("connectTimeout", "2000");
            props.setProperty("socketTimeout", "3000");
            props.setProperty("sslMode", "DISABLED");
        }
        try (Connection c = DriverManager.getConnection(node.jdbcUrl(), props);
                Statement st = c.createStatement()) {
            return Optional.of(pg ? postgres(st) : mariadb(st));
        } catch (SQLException e) {
            return Optional.empty();
        }
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
