package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import dev.baton.registry.RegistryPaths;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;

/** The validated, immutable settings of one {@link FailoverDataSource}. {@link #toString()} masks the password. */
record FailoverConfig(
        String zookeeper,
        String namespace,
        String cluster,
        String user,
        String password,
        String database,
        Properties driverProperties,
        Consumer<HikariConfig> hikari,
        Duration initialPrimaryTimeout,
        Duration holdTimeout,
        boolean lease,
        Duration leaseTimeout,
        boolean resolveCommitOutcome,
        boolean retryNotCommitted,
        ReadRouting readRouting) {

    static final Duration ZK_SESSION_TIMEOUT = Duration.ofSeconds(10);
    static final Duration ZK_CONNECTION_TIMEOUT = Duration.ofSeconds(3);
    static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofSeconds(2);
    /** Below this, the lease would expire between two ZooKeeper round trips on a busy machine. */
    static final Duration MIN_LEASE_TIMEOUT = Duration.ofMillis(200);

    /** Without commit outcome resolution and read routing. */
    FailoverConfig(
            String zookeeper,
            String namespace,
            String cluster,
            String user,
            String password,
            String database,
            Properties driverProperties,
            Consumer<HikariConfig> hikari,
            Duration initialPrimaryTimeout,
            Duration holdTimeout,
            boolean lease,
            Duration leaseTimeout) {
        this(
                zookeeper,
                namespace,
                cluster,
                user,
                password,
                database,
                driverProperties,
                hikari,
                initialPrimaryTimeout,
                holdTimeout,
                lease,
                leaseTimeout,
                false,
                false,
                null);
    }

    FailoverConfig {
        if (zookeeper == null || zookeeper.isBlank()) {
            throw new IllegalArgumentException("zookeeper: must not be empty (host:port[,host:port...])");
        }
        if (namespace == null || namespace.isBlank()) {
            namespace = RegistryPaths.DEFAULT_NAMESPACE;
        } else if (!RegistryPaths.isValidName(namespace)) {
            throw new IllegalArgumentException(
                    "namespace: '" + namespace + "' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
        }
        if (!RegistryPaths.isValidName(cluster)) {
            throw new IllegalArgumentException(
                    "cluster: '" + cluster + "' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
        }
        checkPositive("initialPrimaryTimeout", initialPrimaryTimeout);
        checkPositive("holdTimeout", holdTimeout);
        if (leaseTimeout == null || leaseTimeout.compareTo(MIN_LEASE_TIMEOUT) < 0) {
            throw new IllegalArgumentException(
                    "leaseTimeout: " + leaseTimeout + " must be at least " + MIN_LEASE_TIMEOUT.toMillis() + " ms");
        }
        if (leaseTimeout.compareTo(ZK_SESSION_TIMEOUT) >= 0) {
            // The orchestrator stops waiting for a wrapper whose registration vanished with its session: by then its
            // lease must have run out.
            throw new IllegalArgumentException("leaseTimeout: " + leaseTimeout.toMillis()
                    + " ms must be shorter than the ZooKeeper session timeout (" + ZK_SESSION_TIMEOUT.toMillis()
                    + " ms)");
        }
        Properties copy = new Properties();
        if (driverProperties != null) {
            copy.putAll(driverProperties);
        }
        driverProperties = copy;
        hikari = hikari == null ? c -> {} : hikari;
    }

    private static void checkPositive(String key, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + ": " + value + " must be a positive duration");
        }
    }

    /** The primary record's full ZooKeeper path, namespace included, for messages. */
    String primaryPath() {
        return "/" + namespace + RegistryPaths.primary(cluster);
    }

    String holdPath() {
        return "/" + namespace + RegistryPaths.hold(cluster);
    }

    /** A wrapper's registration: where it acknowledges holds from, for the orchestrator (full path). */
    String clientPath(String clientId) {
        return "/" + namespace + RegistryPaths.client(cluster, clientId);
    }

    String clientsPath() {
        return "/" + namespace + RegistryPaths.clients(cluster);
    }

    String ackPath(String holdId, String clientId) {
        return "/" + namespace + RegistryPaths.ack(cluster, holdId, clientId);
    }

    /** The epochs node's full path, namespace included: where a watch learns new primaries from epoch nodes. */
    String epochsPath() {
        return "/" + namespace + RegistryPaths.epochs(cluster);
    }

    @Override
    public String toString() {
        return "FailoverConfig[zookeeper=" + zookeeper + ", namespace=" + namespace + ", cluster=" + cluster
                + ", user=" + user + ", password=" + (password == null ? "null" : "****") + ", database="
                + database + ", driverProperties=" + driverProperties.stringPropertyNames()
                + ", initialPrimaryTimeout=" + initialPrimaryTimeout + ", holdTimeout=" + holdTimeout + ", lease="
                + lease + ", leaseTimeout=" + leaseTimeout + ", resolveCommitOutcome=" + resolveCommitOutcome
                + ", retryNotCommitted=" + retryNotCommitted + ", readRouting=" + readRouting + "]";
    }
}
