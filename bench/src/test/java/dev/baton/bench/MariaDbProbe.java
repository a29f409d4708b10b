package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/** What the MariaDB tests read directly from a server, bypassing Baton: replica status and read_only. */
final class MariaDbProbe {
    private final LocalCluster cluster;

    MariaDbProbe(LocalCluster cluster) {
        this.cluster = cluster;
    }

    Connection connect(SandboxNode node) throws SQLException {
        return DriverManager.getConnection(
                node.jdbcUrl() + "?connectTimeout=2000&socketTimeout=5000&sslMode=DISABLED",
                cluster.user(),
                cluster.password());
    }

    /** {@code SHOW SLAVE STATUS} as column → value; empty when the node replicates from nobody. */
    Map<String, String> slaveStatus(SandboxNode node) throws SQLException {
        try (Connection c = connect(node)) {
            return slaveStatus(c);
        }
    }

    static Map<String, String> slaveStatus(Connection c) throws SQLException {
        Map<String, String> row = new HashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            if (rs.next()) {
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i), rs.getString(i));
                }
            }
        }
        return row;
    }

    boolean readOnly(SandboxNode node) throws SQLException {
        try (Connection c = connect(node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT @@read_only")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Writable and replicating from nobody: what a promoted MariaDB looks like. */
    boolean isPrimary(SandboxNode node) {
        try {
            return !readOnly(node) && slaveStatus(node).isEmpty();
        } catch (SQLException e) {
            throw new AssertionError("cannot ask " + node.id() + " for its role", e);
        }
    }

    /** Both replication threads run and the IO thread is connected to {@code primary}. */
    boolean replicatesFrom(SandboxNode replica, SandboxNode primary) throws SQLException {
        Map<String, String> s = slaveStatus(replica);
        return "Yes".equals(s.get("Slave_IO_Running"))
                && "Yes".equals(s.get("Slave_SQL_Running"))
                && String.valueOf(primary.port()).equals(s.get("Master_Port"));
    }
}
