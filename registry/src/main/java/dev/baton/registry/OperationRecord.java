package dev.baton.registry;

import java.time.Instant;

/**
 * The operation in progress, at {@link RegistryPaths#operation(String)}, written under the cluster lock before a
 * failover or switchover changes anything and deleted when it ends. A new leader that finds one left behind
 * finishes or rolls back what the old leader started.
 *
 * @param toNode the node being promoted, once chosen (null before)
 * @param epoch the epoch of the primary record when the operation started
 */
public record OperationRecord(String kind, String id, String fromNode, String toNode, long epoch, Instant startedAt) {}
