package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.registry.RegistryClient;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;

/** What every operator command does the same way: reach ZooKeeper or fail fast, and pick the cluster. */
final class CliSupport {
    private CliSupport() {}

    /** A connected client; the caller closes it. */
    static CuratorFramework connect(BatonConfig config) throws InterruptedException {
        var zk = config.zookeeper();
        CuratorFramework client =
                RegistryClient.start(zk.connect(), zk.namespace(), zk.sessionTimeout(), zk.connectionTimeout());
        if (!client.blockUntilConnected((int) zk.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            client.close();
            throw new IllegalStateException("zookeeper.connect: cannot reach ZooKeeper at " + zk.connect() + " within "
                    + zk.connectionTimeout().toMillis() + " ms");
        }
        return client;
    }

    /** The cluster named by {@code --cluster}, or the only one configured. */
    static ClusterConfig cluster(BatonConfig config, String name) {
        if (name == null) {
            if (config.clusters().size() == 1) {
                return config.clusters().get(0);
            }
            throw new IllegalArgumentException("--cluster: required, the configuration has clusters "
                    + config.clusters().stream().map(ClusterConfig::name).toList());
        }
        return config.cluster(name)
                .orElseThrow(() -> new IllegalArgumentException("--cluster: '" + name
                        + "' is not configured (clusters: "
                        + config.clusters().stream().map(ClusterConfig::name).toList()
                        + ")"));
    }
}
