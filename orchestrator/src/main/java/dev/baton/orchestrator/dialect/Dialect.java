package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
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

    /**
     * Prepares {@code primary} to stream to {@code replicas} before they are repointed to it (PostgreSQL: their
     * replication slots, created if missing). Idempotent; nothing for families without slots.
     */
    default void prepareReplicas(Connection primary, java.util.List<NodeConfig> replicas) throws SQLException {}

    /** Makes a replica follow {@code primary}. */
    void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser) throws SQLException;

    /** Makes a primary refuse writes and ends its client sessions (other than this one), at once. */
    default void fence(Connection node) throws SQLException {
        fence(node, Duration.ZERO);
    }

    /**
     * Stops writes on a primary for a planned switchover: waits up to {@code drain} for client sessions to finish
     * the statements and transactions they are in, then makes the node refuse writes and ends every other client
     * session.
     */
    void fence(Connection node, Duration drain) throws SQLException;

    /** The position a primary has written up to; read after {@link #fence} it is the primary's final position. */
    Position currentPosition(Connection primary) throws SQLException;

    /** Waits until the replica has received and applied {@code position}; true when it did before the deadline. */
    boolean awaitPosition(Connection replica, Position position, Instant deadline) throws SQLException;

    /**
     * Turns {@code node}, a fenced former primary, into a replica of {@code primary}. PostgreSQL runs the node's
     * rejoin command (a restart is unavoidable); the MySQL family does it in SQL over {@code connection}.
     *
     * @throws Exception naming the node and what failed; the caller reports it as work left to the operator
     */
    void rejoin(Connection connection, NodeConfig node, NodeConfig primary) throws Exception;

    /**
     * Whether {@code replica} can stream from {@code primary} as it is, without a rewind: it holds nothing that the
     * primary's history lacks. {@code fork} is where the primary's history left its predecessor's, in the text form
     * of {@link Position#text()} (the {@code forkPosition} of the primary record), or null when unknown. When in
     * doubt the answer is false: a replica repointed past the fork loops on an error while Baton reports it as
     * following.
     */
    boolean canFollow(NodeObservation replica, NodeObservation primary, String fork);

    /**
     * Server settings of this node that are at a value that makes Baton slower (never less safe), each as one line
     * naming the setting, its value, the recommended one and why. Empty when there is nothing to say.
     */
    default java.util.List<String> advice(Connection node) throws SQLException {
        return java.util.List.of();
    }

    /**
     * The replica follows the published primary, which is healthy, but does not stream: when its receiver is only
     * waiting out its retry interval (MariaDB's {@code MASTER_CONNECT_RETRY} is 60 s by default, so a primary that
     * restarted quickly leaves its replicas behind for up to a minute), reconnect it now. A receiver an operator
     * stopped is left alone. Returns whether it was restarted. PostgreSQL retries every 5 s by itself: nothing to do.
     */
    default boolean reconnectWaitingReceiver(Connection replica) throws SQLException {
        return false;
    }

    /** Undoes {@link #fence}. */
    void unfence(Connection node) throws SQLException;
}
