package dev.baton.orchestrator.config;

/**
 * One database server of a cluster.
 *
 * @param priority among equally advanced candidates, the higher priority is promoted first
 * @param noFailover never promote this node automatically
 */
public record NodeConfig(String id, String host, int port, int priority, boolean noFailover) {
    public String address() {
        return host + ":" + port;
    }
}
