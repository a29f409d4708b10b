package dev.baton.orchestrator.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole configuration of one orchestrator process, validated by {@link ConfigLoader}.
 *
 * @param http the HTTP API, or null when it is off (no {@code http} section)
 */
public record BatonConfig(
        ZooKeeperConfig zookeeper, String orchestratorId, List<ClusterConfig> clusters, HttpConfig http) {
    public BatonConfig {
        clusters = List.copyOf(clusters);
    }

    public BatonConfig(ZooKeeperConfig zookeeper, String orchestratorId, List<ClusterConfig> clusters) {
        this(zookeeper, orchestratorId, clusters, null);
    }

    public Optional<ClusterConfig> cluster(String name) {
        return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
