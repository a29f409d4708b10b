package dev.baton.jdbc;

import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;

/** The client a test writes the registry with, as the orchestrator would: default namespace, connected. */
final class RegistryAdmin {
    private RegistryAdmin() {}

    static CuratorFramework connect(EmbeddedZooKeeper zk) throws InterruptedException {
        CuratorFramework admin = RegistryClient.start(
                zk.connectString(), RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3));
        if (!admin.blockUntilConnected(10, TimeUnit.SECONDS)) {
            admin.close();
            throw new IllegalStateException("no connection to ZooKeeper " + zk.connectString() + " within 10 s");
        }
        return admin;
    }
}
