package dev.baton.registry;

import java.time.Instant;

/**
 * What a node's agent ({@code baton agent}, on the database host) publishes at {@link RegistryPaths#agent(String,
 * String)}, an ephemeral node of its own ZooKeeper session: the state of its server process as seen on the host. The
 * orchestrator takes {@link #EXITED} and {@link #FENCED} as proof that nothing can commit on that server any more
 * (DESIGN rule 10), and fails over without waiting out any lease.
 *
 * @param node the node id, as in the orchestrator's configuration
 * @param host the database host's name, for operators
 * @param agentPid the agent's process id
 * @param server {@link #RUNNING}, {@link #FROZEN}, {@link #EXITED}, {@link #FENCED} or {@link #ABSENT}
 * @param serverPid the server's main process (postmaster, mariadbd), 0 when none runs
 * @param detail what happened last, in words: which process exited, what was killed and why, how long it took
 * @param fence what the agent does to a primary it must fence: {@code stop} (kills every server process) or {@code
 *     none} (reports only)
 * @param leaseTimeoutMs how long after its last linearizable round trip to ZooKeeper the agent has fenced a primary
 *     it cannot renew its lease for (its lease plus the time the fence may take); 0 when it fences nothing
 * @param killHungServer whether the agent kills a server it finds frozen
 * @param changedAt when the server's state last changed (the agent's wall clock, for display)
 * @param rejoins whether this agent rejoins its node when the orchestrator marks it needs-rejoin (the orchestrator
 *     then runs no rejoin of its own there)
 * @param lastRejoin what the agent's last rejoin did, in words, or null
 */
public record AgentRecord(
        String node,
        String host,
        long agentPid,
        String server,
        long serverPid,
        String detail,
        String fence,
        long leaseTimeoutMs,
        boolean killHungServer,
        Instant changedAt,
        boolean rejoins,
        String lastRejoin) {
    /** The agent has not looked yet. */
    public static final String UNKNOWN = "unknown";

    /** The server process runs and is not stopped. */
    public static final String RUNNING = "running";
    /** The server process is stopped (SIGSTOP, a debugger): it answers nothing. */
    public static final String FROZEN = "frozen";
    /** The server process exited (or was killed by the agent) and none of its processes remains. */
    public static final String EXITED = "exited";
    /** The agent fenced the server: every process of it was killed because it could not stay primary. */
    public static final String FENCED = "fenced";
    /** No server process runs (none found at start, or not restarted since it exited). */
    public static final String ABSENT = "absent";

    /**
     * True when this agent saw its server go: it ran, then exited (or was killed by the agent), and nothing of it
     * remains. {@link #ABSENT} (never seen running: perhaps a wrong pid file, or missing rights) proves nothing.
     */
    public boolean serverGone() {
        return EXITED.equals(server) || FENCED.equals(server);
    }

    public AgentRecord with(String newServer, long newServerPid, String newDetail, Instant at) {
        return new AgentRecord(
                node,
                host,
                agentPid,
                newServer,
                newServerPid,
                newDetail,
                fence,
                leaseTimeoutMs,
                killHungServer,
                at,
                rejoins,
                lastRejoin);
    }

    public AgentRecord withRejoin(String what) {
        return new AgentRecord(
                node,
                host,
                agentPid,
                server,
                serverPid,
                detail,
                fence,
                leaseTimeoutMs,
                killHungServer,
                changedAt,
                rejoins,
                what);
    }
}
