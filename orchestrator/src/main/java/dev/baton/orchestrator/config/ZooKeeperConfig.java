package dev.baton.orchestrator.config;

import java.time.Duration;

/**
 * Where the registry lives and how to reach it.
 *
 * @param digest {@code user:password} for ZooKeeper's digest scheme, or null for an open ensemble; never printed
 */
public record ZooKeeperConfig(
        String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout, String digest) {
    @Override
    public String toString() {
        return "ZooKeeperConfig[connect=" + connect + ", namespace=" + namespace + ", sessionTimeout=" + sessionTimeout
                + ", connectionTimeout=" + connectionTimeout + ", digest=" + (digest == null ? "none" : "****") + "]";
    }
}
