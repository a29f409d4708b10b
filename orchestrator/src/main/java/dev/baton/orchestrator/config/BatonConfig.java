package dev.baton.orchestrator.config;

import java.util.List;
import java.util.Optional;

/** The whole configuration of one orchestrator process, validated by {@link ConfigLoader}. */
public record BatonConfig(ZooKeeperConfig zookeeper, String orchestratorId, List<ClusterConfig> clusters) {
    public BatonConfig {
        clusters = List.copyOf(clusters);
    }

    public Optional<ClusterConfig> cluster(String name) {
        return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
