package dev.baton.orchestrator.config;

/**
 * One database server of a cluster.
 *
 * @param priority among equally advanced candidates, the higher priority is promoted first
 * @param noFailover never promote this node automatically
 * @param rejoinCommand shell command template that turns this node, a former primary, into a replica of the new
 *     primary (PostgreSQL), or null to use the cluster's
 * @param replicationAddress host:port at which the other nodes replicate from this one when it is the primary, if
 *     not {@code host:port} (a replication network, a proxy in front of it for the orchestrator), or null
 * @param agent a {@code baton agent} is meant to run beside this node: {@code status --check} fails while none is
 *     connected. Nodes without it work as before; an agent that connects is used whatever this says
 */
public record NodeConfig(
        String id,
        String host,
        int port,
        int priority,
        boolean noFailover,
        String rejoinCommand,
        String replicationAddress,
        boolean agent) {
    public NodeConfig(String id, String host, int port, int priority, boolean noFailover) {
        this(id, host, port, priority, noFailover, null, null, false);
    }

    public String address() {
        return host + ":" + port;
    }

    /** Where replicas stream from this node: {@code replicationAddress}, or {@link #address()}. */
    public String streamAddress() {
        return replicationAddress != null ? replicationAddress : address();
    }

    public String streamHost() {
        String a = streamAddress();
        return a.substring(0, a.lastIndexOf(':'));
    }

    public int streamPort() {
        String a = streamAddress();
        return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
    }
}
