package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.PositionOrder;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

/**
 * What the orchestrator needs from a database family. Every method does I/O on the connection it is given and
 * is bounded by that connection's timeouts; decisions about the results live elsewhere.
 */
public interface Dialect extends PositionOrder {
    String key();

    /** Opens an administrative connection to {@code node}; {@code timeout} bounds connecting and each statement. */
    Connection connect(NodeConfig node, Duration timeout) throws SQLException;

    /** One probe: role, positions, receiver state. Throws only when the node could not be queried. */
    NodeObservation observe(Connection connection, NodeConfig node, Instant now) throws SQLException;

    /** Waits until the replica has applied everything it received, or the deadline passes. True when caught up. */
    boolean awaitApplied(Connection replica, Instant deadline) throws SQLException;

    /** Turns a replica into a writable primary (and clears any fence left on it). Returns when it accepts writes. */
    void promote(Connection replica, NodeConfig node, Duration timeout) throws SQLException;

    /**
     * Work after a promotion that can wait until the new primary is published (a checkpoint, replication slots
     * for the other nodes).
     */
    void afterPromotion(Connection primary, java.util.List<NodeConfig> replicas) throws SQLException;

    /** Makes a replica follow {@code primary}. */
    void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser) throws SQLException;

    /** Makes a primary refuse writes and ends its client sessions (other than this one). */
    void fence(Connection node) throws SQLException;

    /** Undoes {@link #fence}. */
    void unfence(Connection node) throws SQLException;
}
