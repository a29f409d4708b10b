package dev.baton.orchestrator.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Everything the orchestrator knows about one replicated cluster. {@link #toString()} masks the password.
 *
 * @param pollInterval how often every node is probed while all is well
 * @param recheckInterval how often the primary is probed again once a probe of it failed
 * @param probeTimeout a probe that has not answered within this time counts as failed
 * @param failureThreshold consecutive failed probes of the primary before it may be declared dead
 * @param maxLagOnFailover the most a candidate may be behind the last position seen on the primary (bytes for
 *     PostgreSQL, transactions for the MySQL family); a failover that would lose more is refused
 * @param catchUpTimeout how long a candidate may take to apply what it received before it is promoted
 * @param antiFlapWindow no automatic failover within this time after the previous promotion
 * @param replicationUser the role replicas connect to the primary with (defaults to {@code user})
 * @param allowErrantPromotion MySQL family: promote a candidate with errant transactions when no clean one exists
 * @param replicationPassword MySQL family: the password replicas use (written into CHANGE MASTER / CHANGE
 *     REPLICATION SOURCE); defaults to {@code password}
 * @param rejoinCommand PostgreSQL: shell command template that turns a former primary into a replica of the new
 *     one (see docs/switchover.md), or null when the cluster has none
 * @param drainTimeout switchover: how long in-flight transactions on the old primary may take before their
 *     sessions are ended
 * @param rejoinTimeout how long a rejoin (command or SQL) may take
 * @param primarySilence how long the replicas that follow an unreachable primary may receive nothing, although their
 *     receivers still claim to be connected, before the primary counts as hung or isolated (the receivers' own
 *     timeouts are 60 s by default)
 * @param clientLeaseTimeout the longest lease of any wrapper of this cluster: before promoting in place of a primary
 *     that is only silent (not confirmed gone), the orchestrator tells the wrappers to stop using it and waits this
 *     long, so that no wrapper cut off from ZooKeeper can still commit on it; 0 disables the wait
 * @param fenceCommand shell command that makes sure an unconfirmed old primary can take no writes (STONITH:
 *     power off, firewall), placeholders {@code {node} {host} {port}}; its success replaces the lease wait; or null
 * @param fenceCommandTimeout how long the fence command may run
 * @param hooks commands run around failovers and switchovers
 */
public record ClusterConfig(
        String name,
        Dialect dialect,
        String user,
        String password,
        String database,
        String replicationUser,
        List<NodeConfig> nodes,
        Duration pollInterval,
        Duration recheckInterval,
        Duration probeTimeout,
        int failureThreshold,
        long maxLagOnFailover,
        Duration catchUpTimeout,
        Duration antiFlapWindow,
        boolean allowErrantPromotion,
        String replicationPassword,
        String rejoinCommand,
        Duration drainTimeout,
        Duration rejoinTimeout,
        Duration primarySilence,
        Duration clientLeaseTimeout,
        String fenceCommand,
        Duration fenceCommandTimeout,
        HooksConfig hooks) {

    public enum Dialect {
        POSTGRESQL("postgresql"),
        MARIADB("mariadb"),
        MYSQL("mysql");

        private final String key;

        Dialect(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        public static Optional<Dialect> of(String key) {
            for (Dialect d : values()) {
                if (d.key.equals(key)) {
                    return Optional.of(d);
                }
            }
            return Optional.empty();
        }
    }

    public ClusterConfig {
        nodes = List.copyOf(nodes);
    }

    /** The rejoin command for {@code node}: its own, else the cluster's, else null. */
    public String rejoinCommandFor(NodeConfig node) {
        return node.rejoinCommand() != null ? node.rejoinCommand() : rejoinCommand;
    }

    public Optional<NodeConfig> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }

    @Override
    public String toString() {
        return "ClusterConfig[name=" + name + ", dialect=" + dialect.key() + ", user=" + user + ", password=****"
                + ", database=" + database + ", nodes=" + nodes + ", pollInterval=" + pollInterval
                + ", failureThreshold=" + failureThreshold + ", maxLagOnFailover=" + maxLagOnFailover + "]";
    }
}
