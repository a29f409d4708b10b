package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.registry.RegistryClient;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import picocli.CommandLine.Option;

/**
 * The options every operator command shares ({@code --config}, {@code --cluster}), and what each does the same
 * way with them: load the configuration, pick the cluster, reach ZooKeeper or fail fast.
 */
final class ClusterOptions {
    @Option(
            names = {"-c", "--config"},
            required = true,
            description = "YAML configuration file")
    Path config;

    @Option(names = "--cluster", description = "the cluster (needed when the configuration has several)")
    String cluster;

    BatonConfig load() {
        return ConfigLoader.load(config);
    }

    /** The cluster named by {@code --cluster}, or the only one configured. */
    ClusterConfig cluster(BatonConfig loaded) {
        if (cluster == null) {
            if (loaded.clusters().size() == 1) {
                return loaded.clusters().get(0);
            }
            throw new IllegalArgumentException("--cluster: required, the configuration has clusters "
                    + loaded.clusters().stream().map(ClusterConfig::name).toList());
        }
        return loaded.cluster(cluster)
                .orElseThrow(() -> new IllegalArgumentException("--cluster: '" + cluster
                        + "' is not configured (clusters: "
                        + loaded.clusters().stream().map(ClusterConfig::name).toList() + ")"));
    }

    /** What a command does with a connected client; returns the exit code. */
    interface ZooKeeperWork {
        int run(CuratorFramework client) throws Exception;
    }

    /**
     * Connects, runs {@code work} and closes the client. ZooKeeper refusing access (NoAuth) becomes one line that
     * names the digest problem, reported like any other bad input (exit code 2).
     */
    static int withZooKeeper(BatonConfig config, ZooKeeperWork work) throws Exception {
        try (CuratorFramework client = connect(config)) {
            try {
                return work.run(client);
            } catch (Exception e) {
                KeeperException.NoAuthException noAuth = ZooKeeperAccess.noAuthIn(e);
                if (noAuth == null) {
                    throw e;
                }
                throw new IllegalStateException(
                        ZooKeeperAccess.explain(
                                noAuth, client, config.zookeeper().digest()),
                        e);
            }
        }
    }

    /** A connected client; the caller closes it. */
    static CuratorFramework connect(BatonConfig config) throws InterruptedException {
        var zk = config.zookeeper();
        CuratorFramework client = RegistryClient.start(
                zk.connect(),
                zk.namespace(),
                zk.sessionTimeout(),
                zk.connectionTimeout(),
                zk.digest(),
                new org.apache.curator.retry.ExponentialBackoffRetry(100, 5, 1000),
                zk.clientProperties());
        if (!client.blockUntilConnected((int) zk.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            client.close();
            throw new IllegalStateException("zookeeper.connect: cannot reach ZooKeeper at " + zk.connect() + " within "
                    + zk.connectionTimeout().toMillis() + " ms");
        }
        return client;
    }
}
