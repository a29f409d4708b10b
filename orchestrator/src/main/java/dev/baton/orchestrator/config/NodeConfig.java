package dev.baton.orchestrator.config;

/**
 * One database server of a cluster.
 *
 * @param priority among equally advanced candidates, the higher priority is promoted first
 * @param noFailover never promote this node automatically
 * @param rejoinCommand shell command template that turns this node, a former primary, into a replica of the new
 *     primary (PostgreSQL), or null to use the cluster's
 */
public record NodeConfig(String id, String host, int port, int priority, boolean noFailover, String rejoinCommand) {
    public NodeConfig(String id, String host, int port, int priority, boolean noFailover) {
        this(id, host, port, priority, noFailover, null);
    }

    public String address() {
        return host + ":" + port;
    }
}
