package dev.baton.registry;

import java.time.Instant;
import java.util.Objects;

/**
 * The node applications must write to, as published at {@link RegistryPaths#primary(String)}.
 *
 * <p>{@code epoch} grows by one with every promotion; a record is only ever replaced by one with a higher
 * epoch, through a versioned (compare-and-set) write. Clients refuse a node whose epoch is older than the
 * newest one they have seen.
 *
 * <p>{@code forkPosition} is where this primary's history left its predecessor's (the position it had replayed when
 * it was promoted, in the dialect's text form), or null when unknown: a replica that received more than that from
 * the old primary has diverged and must be rewound before it can follow this one.
 */
public record PrimaryRecord(
        String cluster,
        String nodeId,
        String host,
        int port,
        String dialect,
        long epoch,
        Instant promotedAt,
        String forkPosition) {

    public PrimaryRecord {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(promotedAt, "promotedAt");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " is not a TCP port (1-65535)");
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch: " + epoch + " must be at least 1");
        }
    }

    public PrimaryRecord(
            String cluster, String nodeId, String host, int port, String dialect, long epoch, Instant promotedAt) {
        this(cluster, nodeId, host, port, dialect, epoch, promotedAt, null);
    }

    /** The record that replaces this one when {@code node} is promoted. */
    public PrimaryRecord successor(String nodeId, String host, int port, Instant promotedAt) {
        return successor(nodeId, host, port, promotedAt, null);
    }

    /** The record that replaces this one when {@code node} is promoted after replaying up to {@code fork}. */
    public PrimaryRecord successor(String nodeId, String host, int port, Instant promotedAt, String forkPosition) {
        return new PrimaryRecord(cluster, nodeId, host, port, dialect, epoch + 1, promotedAt, forkPosition);
    }

    public String address() {
        return host + ":" + port;
    }
}
