package dev.baton.registry;

import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/** Builds the Curator client every Baton component uses, so that namespace and timeouts mean the same everywhere. */
public final class RegistryClient {
    private RegistryClient() {}

    /**
     * A started client. It is not yet connected; use {@link CuratorFramework#blockUntilConnected(int,
     * java.util.concurrent.TimeUnit)} where the caller must fail fast on an unreachable ensemble.
     */
    public static CuratorFramework start(
            String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout) {
        if (connect == null || connect.isBlank()) {
            throw new IllegalArgumentException("zookeeper.connect: must not be empty (host:port[,host:port...])");
        }
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .namespace(namespace == null || namespace.isBlank() ? RegistryPaths.DEFAULT_NAMESPACE : namespace)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) connectionTimeout.toMillis())
                .retryPolicy(new ExponentialBackoffRetry(100, 5, 1000))
                .build();
        client.start();
        return client;
    }
}
