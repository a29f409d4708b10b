package dev.baton.orchestrator.dialect;

import static dev.baton.orchestrator.dialect.MySqlFamily.blankToNull;
import static dev.baton.orchestrator.dialect.MySqlFamily.literal;
import static dev.baton.orchestrator.dialect.MySqlFamily.statement;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.FailureKind;
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
 * MariaDB GTID replication ({@code MASTER_USE_GTID=slave_pos}), over MySQL Connector/J. Positions are
 * {@link MariaDbGtidPos}: a primary's {@code gtid_binlog_pos}; a replica receives up to {@code Gtid_IO_Pos} and has
 * applied {@code gtid_current_pos} (its {@code gtid_slave_pos}, plus any transaction written on it directly: an
 * errant one).
 */
public final class MariaDbDialect extends GtidDialect {
    private static final String PROBE = "SELECT @@read_only, @@gtid_binlog_pos, @@gtid_current_pos,"
            + " @@gtid_slave_pos, @@server_id, VERSION(), @@gtid_strict_mode, @@log_slave_updates";

    private static final StatusColumns COLUMNS = new StatusColumns(
            "Slave_IO_Running", "Slave_SQL_Running", "Master_Host", "Master_Port", "Seconds_Behind_Master");

    public MariaDbDialect(ClusterConfig cluster) {
        super(cluster);
    }

    @Override
    public String key() {
        return "mariadb";
    }

    @Override
    public NodeObservation observe(Connection connection, NodeConfig node, Instant now) throws SQLException {
        try (Statement st = statement(connection)) {
            boolean readOnly;
            MariaDbGtidPos binlog;
            MariaDbGtidPos current;
            MariaDbGtidPos slave;
            String missing;
            try (ResultSet rs = st.executeQuery(PROBE)) {
                rs.next();
                readOnly = rs.getBoolean(1);
                binlog = MariaDbGtidPos.parse(rs.getString(2)).writtenBy(rs.getLong(5));
                current = MariaDbGtidPos.parse(rs.getString(3));
                slave = MariaDbGtidPos.parse(rs.getString(4));
                missing = missingSettings(rs.getBoolean(7), rs.getBoolean(8));
            }
            Map<String, String> status = MySqlFamily.row(st, "SHOW SLAVE STATUS");
            String masterHost = blankToNull(status.get("Master_Host"));
            if (masterHost == null) {
                return primary(node, now, binlog, readOnly);
            }
            MariaDbGtidPos received =
                    MariaDbGtidPos.parse(status.get("Gtid_IO_Pos")).union(slave);
            NodeObservation replica = replica(node, now, status, COLUMNS, received, current, readOnly);
            return missing == null ? replica : notPromotable(replica, missing);
        }
    }

    /**
     * What Baton relies on and MariaDB leaves off by default, or null. Without {@code gtid_strict_mode}, errant
     * transactions numbered at or below the primary's vanish from {@code gtid_current_pos}, so the most advanced
     * replica cannot be told; without {@code log_slave_updates}, a promoted replica's binary log lacks what it
     * replicated, so the others cannot follow it from their position and a rejoin's {@code gtid_slave_pos} is stale.
     */
    static String missingSettings(boolean strictMode, boolean logSlaveUpdates) {
        List<String> off = new java.util.ArrayList<>();
        if (!strictMode) {
            off.add("gtid_strict_mode");
        }
        if (!logSlaveUpdates) {
            off.add("log_slave_updates");
        }
        return off.isEmpty()
                ? null
                : String.join(" and ", off) + " OFF: Baton requires them ON to promote this node (set them in the"
                        + " server's configuration; docs/operations.md, MariaDB)";
    }

    /** {@code replica} as one the selector refuses, with why: status shows it, the failover records it. */
    private static NodeObservation notPromotable(NodeObservation replica, String why) {
        return new NodeObservation(
                replica.node(),
                replica.at(),
                true,
                null,
                replica.error() == null ? why : replica.error() + "; " + why,
                replica.role(),
                replica.timeline(),
                replica.received(),
                replica.applied(),
                replica.streaming(),
                replica.upstream(),
                replica.replayDelaySeconds(),
                replica.readOnly(),
                false);
    }

    @Override
    public boolean reconnectWaitingReceiver(Connection replica) throws SQLException {
        try (Statement st = statement(replica)) {
            Map<String, String> status = MySqlFamily.row(st, "SHOW SLAVE STATUS");
            if (!"Connecting".equals(status.get("Slave_IO_Running"))) {
                return false; // streaming, or stopped on purpose or by an error an operator must see
            }
            st.execute("STOP SLAVE IO_THREAD");
            st.execute("START SLAVE IO_THREAD");
            return true;
        }
    }

    /** Waits until {@code gtid_slave_pos} holds everything the IO thread received ({@code Gtid_IO_Pos}). */
    @Override
    public boolean awaitApplied(Connection replica, Instant deadline) throws SQLException {
        String received;
        try (Statement st = statement(replica)) {
            received = blankToNull(MySqlFamily.row(st, "SHOW SLAVE STATUS").get("Gtid_IO_Pos"));
        }
        return received == null || awaitPosition(replica, MariaDbGtidPos.parse(received), deadline);
    }

    @Override
    public void promote(Connection replica, NodeConfig node, Duration timeout) throws SQLException {
        boolean writableSent = false;
        try (Statement st = statement(replica)) {
            st.execute("STOP SLAVE");
            st.execute("RESET SLAVE ALL");
            writableSent = true;
            st.execute("SET GLOBAL read_only = OFF");
        } catch (SQLException e) {
            FailureKind kind = SqlFailures.classify(e);
            if (writableSent && kind != FailureKind.OTHER && kind != FailureKind.AUTHENTICATION) {
                // The reply to read_only = OFF was lost (connection lost, timed out, server going down): the server
                // may have run it and take writes now. Not a refusal: the promotion stays recorded as under way.
                throw new SQLException(
                        "promotion of " + node.id() + ": the reply to SET GLOBAL read_only = OFF was lost ("
                                + e.getMessage() + "); it may have been applied",
                        e.getSQLState(),
                        e.getErrorCode(),
                        e);
            }
            // The server said no, or read_only = OFF was never sent: the node does not take writes.
            throw new PromotionRefusedException("promotion of " + node.id() + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void afterPromotion(Connection primary, List<NodeConfig> replicas) {
        // Nothing to prepare: replicas find their GTID position in the new primary's binary log.
    }

    @Override
    public void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser)
            throws SQLException {
        try (Statement st = statement(replica)) {
            st.execute("STOP SLAVE");
            st.execute(changeMaster(st, primary, replicationUser));
            st.execute("START SLAVE");
        } catch (SQLException e) {
            throw masked("repointing " + node.id() + " to " + primary.id(), e);
        }
    }

    private String changeMaster(Statement st, NodeConfig primary, String replicationUser) throws SQLException {
        return "CHANGE MASTER TO MASTER_HOST=" + literal(st, primary.streamHost()) + ", MASTER_PORT="
                + primary.streamPort()
                + ", MASTER_USER=" + literal(st, replicationUser) + ", MASTER_PASSWORD="
                + literal(st, cluster.replicationPassword()) + ", MASTER_USE_GTID=slave_pos";
    }

    @Override
    public void fence(Connection node, Duration drain) throws SQLException {
        MySqlFamily.fence(node, drain, List.of("SET GLOBAL read_only = ON"));
    }

    /** A replica's {@code Connect_Retry}: how long it waits between attempts to reach its primary. */
    @Override
    public List<String> advice(Connection node) throws SQLException {
        try (Statement st = statement(node)) {
            String retry = MySqlFamily.row(st, "SHOW SLAVE STATUS").get("Connect_Retry");
            if (retry != null && retry.matches("[0-9]+") && Long.parseLong(retry) > 5) {
                return List.of("MASTER_CONNECT_RETRY = " + retry + "s (recommended: 1-5s): a replica whose"
                        + " connection to the primary failed waits this long before it tries again");
            }
            return List.of();
        }
    }

    @Override
    public void unfence(Connection node) throws SQLException {
        try (Statement st = statement(node)) {
            st.execute("SET GLOBAL read_only = OFF");
        }
    }

    @Override
    public Position currentPosition(Connection primary) throws SQLException {
        try (Statement st = statement(primary);
                ResultSet rs = st.executeQuery("SELECT @@gtid_binlog_pos")) {
            rs.next();
            return MariaDbGtidPos.parse(rs.getString(1));
        }
    }

    @Override
    public boolean awaitPosition(Connection replica, Position position, Instant deadline) throws SQLException {
        return awaitGtid(replica, position, deadline, "MASTER_GTID_WAIT");
    }

    /**
     * Makes the fenced former primary a replica of {@code primary} from the end of its own binary log, and waits
     * (up to the rejoin timeout) until its IO thread streams.
     */
    @Override
    public void rejoin(Connection connection, NodeConfig node, NodeConfig primary) throws Exception {
        try (Statement st = statement(connection)) {
            st.execute("SET GLOBAL read_only = ON");
            st.execute("STOP SLAVE");
            st.execute("SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos");
            st.execute(changeMaster(st, primary, cluster.replicationUser()));
            st.execute("START SLAVE");
            MySqlFamily.awaitReplicating(
                    st,
                    "SHOW SLAVE STATUS",
                    "Slave_IO_Running",
                    "Slave_SQL_Running",
                    cluster.rejoinTimeout(),
                    "rejoin of " + node.id() + " as a replica of " + primary.id());
        } catch (SQLException e) {
            throw masked("rejoin of " + node.id() + " as a replica of " + primary.id(), e);
        }
    }

    private SQLException masked(String step, SQLException e) {
        String message = SqlFailures.describe(e, cluster.replicationPassword());
        return new SQLException(
                message.startsWith(step) ? message : step + " failed: " + message, e.getSQLState(), e.getErrorCode());
    }
}
