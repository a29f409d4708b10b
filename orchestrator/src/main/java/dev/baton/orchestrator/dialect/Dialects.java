package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.ClusterConfig;

/** The dialect implementation for a cluster's configured database family. */
public final class Dialects {
    private Dialects() {}

    public static Dialect forCluster(ClusterConfig cluster) {
        return switch (cluster.dialect()) {
            case POSTGRESQL -> new PostgresDialect(cluster);
            case MARIADB -> new MariaDbDialect(cluster);
            case MYSQL -> new MySqlDialect(cluster);
        };
    }
}
