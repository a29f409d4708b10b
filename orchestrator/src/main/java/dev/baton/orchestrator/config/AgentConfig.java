package dev.baton.orchestrator.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The configuration of one {@code baton agent}: the node it runs beside and how it may act on that node's server.
 *
 * @param dataDirectory the server's data directory; on PostgreSQL every server process runs in it, which is how the
 *     agent finds the backends a dead postmaster left behind
 * @param pidFile the file the server writes its main process id to (PostgreSQL: {@code postmaster.pid} in the data
 *     directory; MariaDB/MySQL: the server's {@code pid-file})
 * @param fence what the agent does to its server when it must not stay primary: the orchestrator holds it, or the
 *     agent's lease in ZooKeeper ran out
 * @param leaseTimeout how long the agent of the primary may go without a linearizable round trip to ZooKeeper before
 *     it fences its server
 * @param killHungServer whether the agent kills a server it finds frozen for {@code hungAfter}, and reports it dead
 * @param rejoin how the agent turns its node into a replica of the published primary when the orchestrator marks it
 *     needs-rejoin (PostgreSQL: pg_rewind, or a fresh clone where allowed); null: it leaves that to the cluster's
 *     {@code rejoinCommand} or an operator
 */
public record AgentConfig(
        ZooKeeperConfig zookeeper,
        String cluster,
        String node,
        ClusterConfig.Dialect dialect,
        Path dataDirectory,
        Path pidFile,
        Fence fence,
        Duration leaseTimeout,
        boolean killHungServer,
        Duration hungAfter,
        Rejoin rejoin) {

    /**
     * What a PostgreSQL rejoin needs.
     *
     * @param user a role on the new primary that may run pg_rewind and CHECKPOINT and create a replication slot (a
     *     superuser, typically), also the replication user of the rejoined standby's {@code primary_conninfo}
     * @param password its password, or null (trust, a .pgpass); never printed, passed to the tools in their environment
     * @param binaries the directory of pg_ctl, pg_rewind, pg_controldata and pg_basebackup
     * @param osUser the OS user the server and its tools run as (PostgreSQL refuses root), or null for the agent's own
     * @param reclone whether a node that cannot be rewound is cloned anew with pg_basebackup (its data directory kept
     *     aside, renamed), instead of being reported as needing a rebuild
     */
    public record Rejoin(String user, String password, String database, Path binaries, String osUser, boolean reclone) {
        @Override
        public String toString() {
            return "Rejoin[user=" + user + ", password=" + (password == null ? "none" : "****") + ", database="
                    + database + ", binaries=" + binaries + ", osUser=" + osUser + ", reclone=" + reclone + "]";
        }
    }

    /** At most this long from the lease's end to every server process gone: part of the lease the agent registers. */
    public static final Duration FENCE_BUDGET = Duration.ofMillis(500);

    /** What the agent does to a server that must not stay primary. */
    public enum Fence {
        /** SIGKILL every process of the server: no session, of any client, can commit after it. */
        STOP("stop"),
        /** Report only: the agent fences nothing, and clients that are not Baton's are not bound. */
        NONE("none");

        private final String key;

        Fence(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** The lease the agent registers with: the orchestrator waits this long for an agent that cannot be reached. */
    public Duration registeredLease() {
        return fence == Fence.NONE ? Duration.ZERO : leaseTimeout.plus(FENCE_BUDGET);
    }
}
