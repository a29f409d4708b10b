package dev.baton.orchestrator.dialect;

import static dev.baton.orchestrator.dialect.MySqlFamily.blankToNull;
import static dev.baton.orchestrator.dialect.MySqlFamily.literal;
import static dev.baton.orchestrator.dialect.MySqlFamily.statement;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * MySQL 8.0 / 8.4 GTID replication ({@code SOURCE_AUTO_POSITION=1}). Positions are {@link MySqlGtidSet}s: a
 * primary's {@code gtid_executed}; a replica has applied its {@code gtid_executed} and received that plus its
 * {@code Retrieved_Gtid_Set}. Fencing uses {@code super_read_only}, which also stops accounts with SUPER.
 */
public final class MySqlDialect extends GtidDialect {
    private static final String SHOW_STATUS = "SHOW REPLICA STATUS";

    private static final StatusColumns COLUMNS = new StatusColumns(
            "Replica_IO_Running", "Replica_SQL_Running", "Source_Host", "Source_Port", "Seconds_Behind_Source");

    public MySqlDialect(ClusterConfig cluster) {
        super(cluster);
    }

    @Override
    public String key() {
        return "mysql";
    }

    @Override
    public NodeObservation observe(Connection connection, NodeConfig node, Instant now) throws SQLException {
        try (Statement st = statement(connection)) {
            boolean readOnly;
            MySqlGtidSet executed;
            String serverUuid;
            try (ResultSet rs = st.executeQuery("SELECT @@read_only, @@gtid_executed, @@server_uuid, VERSION()")) {
                rs.next();
                readOnly = rs.getBoolean(1);
                executed = MySqlGtidSet.parse(rs.getString(2));
                serverUuid = rs.getString(3);
            }
            Map<String, String> status = MySqlFamily.row(st, SHOW_STATUS);
            String sourceHost = blankToNull(status.get("Source_Host"));
            if (sourceHost == null) {
                MySqlGtidSet written = executed.writtenBy(serverUuid);
                return primary(node, now, written, readOnly);
            }
            MySqlGtidSet received =
                    MySqlGtidSet.parse(status.get("Retrieved_Gtid_Set")).union(executed);
            return replica(node, now, status, COLUMNS, received, executed, readOnly);
        }
    }

    /** Waits until {@code gtid_executed} holds everything the IO thread retrieved. */
    @Override
    public boolean awaitApplied(Connection replica, Instant deadline) throws SQLException {
        String retrieved;
        try (Statement st = statement(replica)) {
            retrieved = blankToNull(MySqlFamily.row(st, SHOW_STATUS).get("Retrieved_Gtid_Set"));
        }
        return retrieved == null || awaitPosition(replica, MySqlGtidSet.parse(retrieved), deadline);
    }

    @Override
    public void promote(Connection replica, NodeConfig node, Duration timeout) throws SQLException {
        try (Statement st = statement(replica)) {
            st.execute("STOP REPLICA");
            st.execute("RESET REPLICA ALL");
            st.execute("SET GLOBAL super_read_only = OFF");
            st.execute("SET GLOBAL read_only = OFF");
        } catch (SQLException e) {
            throw new SQLException(
                    "promotion of " + node.id() + " failed: " + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
        }
    }

    @Override
    public void afterPromotion(Connection primary, List<NodeConfig> replicas) {
        // Nothing to prepare: with auto-positioning replicas send their gtid_executed to the new source.
    }

    @Override
    public void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser)
            throws SQLException {
        try (Statement st = statement(replica)) {
            st.execute("STOP REPLICA");
            st.execute(changeSource(st, primary, replicationUser));
            st.execute("START REPLICA");
        } catch (SQLException e) {
            throw masked("repointing " + node.id() + " to " + primary.id(), e);
        }
    }

    private String changeSource(Statement st, NodeConfig primary, String replicationUser) throws SQLException {
        // GET_SOURCE_PUBLIC_KEY: caching_sha2_password over a connection without TLS needs the server's RSA key.
        return "CHANGE REPLICATION SOURCE TO SOURCE_HOST=" + literal(st, primary.streamHost()) + ", SOURCE_PORT="
                + primary.streamPort() + ", SOURCE_USER=" + literal(st, replicationUser) + ", SOURCE_PASSWORD="
                + literal(st, cluster.replicationPassword())
                + ", SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1";
    }

    @Override
    public void fence(Connection node, Duration drain) throws SQLException {
        MySqlFamily.fence(node, drain, List.of("SET GLOBAL super_read_only = ON"));
    }

    @Override
    public void unfence(Connection node) throws SQLException {
        try (Statement st = statement(node)) {
            st.execute("SET GLOBAL super_read_only = OFF");
            st.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public Position currentPosition(Connection primary) throws SQLException {
        try (Statement st = statement(primary);
                ResultSet rs = st.executeQuery("SELECT @@gtid_executed")) {
            rs.next();
            return MySqlGtidSet.parse(rs.getString(1));
        }
    }

    @Override
    public boolean awaitPosition(Connection replica, Position position, Instant deadline) throws SQLException {
        return awaitGtid(replica, position, deadline, "WAIT_FOR_EXECUTED_GTID_SET");
    }

    /** Makes the fenced former primary a replica of {@code primary}; auto-positioning finds where it stands. */
    @Override
    public void rejoin(Connection connection, NodeConfig node, NodeConfig primary) throws Exception {
        String what = "rejoin of " + node.id() + " as a replica of " + primary.id();
        try (Statement st = statement(connection)) {
            st.execute("SET GLOBAL super_read_only = ON");
            st.execute("STOP REPLICA");
            st.execute(changeSource(st, primary, cluster.replicationUser()));
            st.execute("START REPLICA");
            MySqlFamily.awaitReplicating(
                    st, SHOW_STATUS, "Replica_IO_Running", "Replica_SQL_Running", cluster.rejoinTimeout(), what);
        } catch (SQLException e) {
            throw masked(what, e);
        }
    }

    private SQLException masked(String step, SQLException e) {
        String message = SqlFailures.describe(e, cluster.replicationPassword());
        return new SQLException(
                message.startsWith(step) ? message : step + " failed: " + message, e.getSQLState(), e.getErrorCode());
    }
}
