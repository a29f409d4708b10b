package dev.baton.jdbc;

/** How a read-only {@link FailoverDataSource} spreads its connections over the replicas that qualify. */
public enum ReplicaBalance {
    /** In turn over the qualifying replicas. */
    ROUND_ROBIN,
    /** To the qualifying replica with the smallest published lag (bytes, then seconds). */
    LEAST_LAG
}
