package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigException;

/** The dialect implementation for a cluster's configured database family. */
public final class Dialects {
    private Dialects() {}

    public static Dialect forCluster(ClusterConfig cluster) {
        return switch (cluster.dialect()) {
            case POSTGRESQL -> new PostgresDialect(cluster);
            case MARIADB, MYSQL -> throw new ConfigException("clusters[" + cluster.name() + "].dialect: "
                    + cluster.dialect().key() + " is not supported by this build yet");
        };
    }
}
