package dev.baton.orchestrator.config;

import java.time.Duration;
import java.util.Map;

/**
 * Where the registry lives and how to reach it.
 *
 * @param digest {@code user:password} for ZooKeeper's digest scheme, or null for an open ensemble; never printed
 * @param clientProperties ZooKeeper client settings (TLS, SASL) from {@code zookeeper.tls} and {@code
 *     zookeeper.sasl}, as ZooKeeper's own property names; passwords among them are never printed
 */
public record ZooKeeperConfig(
        String connect,
        String namespace,
        Duration sessionTimeout,
        Duration connectionTimeout,
        String digest,
        Map<String, String> clientProperties) {
    public ZooKeeperConfig {
        clientProperties = clientProperties == null ? Map.of() : Map.copyOf(clientProperties);
    }

    public ZooKeeperConfig(
            String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout, String digest) {
        this(connect, namespace, sessionTimeout, connectionTimeout, digest, Map.of());
    }

    @Override
    public String toString() {
        return "ZooKeeperConfig[connect=" + connect + ", namespace=" + namespace + ", sessionTimeout=" + sessionTimeout
                + ", connectionTimeout=" + connectionTimeout + ", digest=" + (digest == null ? "none" : "****")
                + ", client=" + clientProperties.keySet() + "]";
    }
}
