package dev.baton.orchestrator.dialect;

import static dev.baton.orchestrator.dialect.MySqlFamily.blankToNull;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.registry.NodeRole;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What the MySQL family's dialects share: connecting over Connector/J, positions that are GTID sets counted in
 * transactions, and reading a replica status row into an observation.
 */
abstract sealed class GtidDialect implements Dialect permits MariaDbDialect, MySqlDialect {
    /** The replica status columns, named differently by MariaDB ({@code SHOW SLAVE STATUS}) and MySQL 8.4. */
    record StatusColumns(String ioRunning, String sqlRunning, String host, String port, String secondsBehind) {}

    protected final ClusterConfig cluster;

    GtidDialect(ClusterConfig cluster) {
        this.cluster = cluster;
    }

    @Override
    public Connection connect(NodeConfig node, Duration timeout) throws SQLException {
        return MySqlFamily.connect(cluster, node, timeout);
    }

    @Override
    public int compare(Position a, Position b) {
        return GtidSet.compare((GtidSet) a, (GtidSet) b);
    }

    @Override
    public long distance(Position ahead, Position behind) {
        return ((GtidSet) ahead).countNotIn((GtidSet) behind);
    }

    @Override
    public long errantCount(Position candidateApplied, Position primaryLast) {
        return ((GtidSet) candidateApplied).errantAgainst((GtidSet) primaryLast);
    }

    /** A replica follows when every transaction it applied or received is in the primary's history. */
    @Override
    public boolean canFollow(NodeObservation replica, NodeObservation primary, String fork) {
        GtidSet held = (GtidSet) (replica.received() != null ? replica.received() : replica.applied());
        if (held == null) {
            return true;
        }
        GtidSet history = (GtidSet) primary.received();
        return history != null && history.contains(held);
    }

    @Override
    public String distanceUnit() {
        return "transactions";
    }

    static NodeObservation primary(NodeConfig node, Instant now, GtidSet written, boolean readOnly) {
        return new NodeObservation(
                node, now, true, null, null, NodeRole.PRIMARY, 0, written, written, false, null, 0, readOnly, true);
    }

    /**
     * A replica: streaming while its IO thread runs; unhealthy (not a candidate) when its SQL thread stopped with an
     * error.
     */
    static NodeObservation replica(
            NodeConfig node,
            Instant now,
            Map<String, String> status,
            StatusColumns columns,
            GtidSet received,
            GtidSet applied,
            boolean readOnly) {
        boolean ioRunning = "Yes".equals(status.get(columns.ioRunning()));
        boolean sqlRunning = "Yes".equals(status.get(columns.sqlRunning()));
        String sqlError = blankToNull(status.get("Last_SQL_Error"));
        boolean healthy = sqlRunning || sqlError == null;
        String error = !healthy ? "SQL thread stopped: " + sqlError : blankToNull(status.get("Last_IO_Error"));
        String lag = status.get(columns.secondsBehind());
        return new NodeObservation(
                node,
                now,
                true,
                null,
                error,
                NodeRole.REPLICA,
                0,
                received,
                applied,
                ioRunning,
                status.get(columns.host()) + ":" + status.get(columns.port()),
                lag == null ? -1 : Double.parseDouble(lag),
                readOnly,
                healthy);
    }

    /**
     * Waits until the replica has executed {@code position} with the server's own wait function ({@code
     * MASTER_GTID_WAIT} or {@code WAIT_FOR_EXECUTED_GTID_SET}, both 0 on success), in slices shorter than the
     * socket timeout.
     */
    static boolean awaitGtid(Connection replica, Position position, Instant deadline, String waitFunction)
            throws SQLException {
        String target = position.text();
        if (target.isEmpty()) {
            return true;
        }
        try (PreparedStatement ps = replica.prepareStatement("SELECT " + waitFunction + "(?, ?)")) {
            return MySqlFamily.awaitInSlices(replica, deadline, 0, seconds -> {
                ps.setString(1, target);
                ps.setDouble(2, seconds);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
        }
    }
}
