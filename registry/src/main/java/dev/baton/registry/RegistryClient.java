package dev.baton.registry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

/** Builds the Curator client every Baton component uses, so that namespace and timeouts mean the same everywhere. */
public final class RegistryClient {
    private RegistryClient() {}

    /**
     * A started client. It is not yet connected; use {@link CuratorFramework#blockUntilConnected(int,
     * java.util.concurrent.TimeUnit)} where the caller must fail fast on an unreachable ensemble.
     */
    public static CuratorFramework start(
            String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout) {
        return start(connect, namespace, sessionTimeout, connectionTimeout, null);
    }

    /**
     * Like {@link #start(String, String, Duration, Duration)}, authenticated with ZooKeeper's digest scheme when
     * {@code digest} ({@code user:password}) is given. Every node such a client creates can then be changed only
     * by clients holding the same digest, and read by anyone: applications' wrappers need no credentials to
     * follow the primary, but only Baton's orchestrators and CLI can move it.
     */
    public static CuratorFramework start(
            String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout, String digest) {
        return start(
                connect,
                namespace,
                sessionTimeout,
                connectionTimeout,
                digest,
                new ExponentialBackoffRetry(100, 5, 1000));
    }

    /**
     * Like {@link #start(String, String, Duration, Duration, String)} with another retry policy: an HA loop bounds
     * every ZooKeeper call (connection timeout plus retries) so that it never waits on ZooKeeper for long.
     */
    public static CuratorFramework start(
            String connect,
            String namespace,
            Duration sessionTimeout,
            Duration connectionTimeout,
            String digest,
            org.apache.curator.RetryPolicy retryPolicy) {
        return start(connect, namespace, sessionTimeout, connectionTimeout, digest, retryPolicy, java.util.Map.of());
    }

    /**
     * Like the others, with ZooKeeper client properties (TLS: {@code zookeeper.client.secure}, key and trust stores;
     * SASL: {@code zookeeper.sasl.client}, the JAAS file) given to this client only.
     */
    public static CuratorFramework start(
            String connect,
            String namespace,
            Duration sessionTimeout,
            Duration connectionTimeout,
            String digest,
            org.apache.curator.RetryPolicy retryPolicy,
            java.util.Map<String, String> clientProperties) {
        return start(
                connect, namespace, sessionTimeout, connectionTimeout, digest, retryPolicy, clientProperties, null);
    }

    /**
     * Like the others, with the executor Curator runs its "safe" notifications on (null: Curator's own). Curator
     * does not stop its own one when the client closes, so a short-lived client (an application's data source that
     * is closed and evicted) passes one it shuts down itself.
     */
    public static CuratorFramework start(
            String connect,
            String namespace,
            Duration sessionTimeout,
            Duration connectionTimeout,
            String digest,
            org.apache.curator.RetryPolicy retryPolicy,
            java.util.Map<String, String> clientProperties,
            java.util.concurrent.Executor runSafeService) {
        if (connect == null || connect.isBlank()) {
            throw new IllegalArgumentException("zookeeper.connect: must not be empty (host:port[,host:port...])");
        }
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .namespace(namespace == null || namespace.isBlank() ? RegistryPaths.DEFAULT_NAMESPACE : namespace)
                .sessionTimeoutMs((int) sessionTimeout.toMillis())
                .connectionTimeoutMs((int) connectionTimeout.toMillis())
                .retryPolicy(retryPolicy);
        if (runSafeService != null) {
            builder.runSafeService(runSafeService);
        }
        if (!clientProperties.isEmpty()) {
            org.apache.zookeeper.client.ZKClientConfig zkConfig = new org.apache.zookeeper.client.ZKClientConfig();
            clientProperties.forEach(zkConfig::setProperty);
            builder.zkClientConfig(zkConfig);
        }
        if (digest != null) {
            if (digest.indexOf(':') < 1 || digest.indexOf(':') == digest.length() - 1) {
                throw new IllegalArgumentException("zookeeper.digest: must be user:password");
            }
            builder.authorization("digest", digest.getBytes(StandardCharsets.UTF_8))
                    .aclProvider(new ACLProvider() {
                        public List<ACL> getDefaultAcl() {
                            return WRITE_BY_CREATOR_READ_BY_ALL;
                        }

                        public List<ACL> getAclForPath(String path) {
                            return WRITE_BY_CREATOR_READ_BY_ALL;
                        }
                    });
        }
        CuratorFramework client = builder.build();
        client.start();
        return client;
    }

    /**
     * The ACL of a parent node that wrappers, which hold no ZooKeeper credentials, must be able to add children to
     * (their registrations and acknowledgements): full rights for the authenticated creator, READ and CREATE for
     * everyone. Nobody else may delete a child: a wrapper's ephemeral node goes with its session. A client without
     * credentials gets ZooKeeper's InvalidACL for it and uses {@link ZooDefs.Ids#OPEN_ACL_UNSAFE}, as for every other
     * node it creates.
     */
    public static final List<ACL> CREATE_BY_ALL_WRITE_BY_CREATOR = Collections.unmodifiableList(Arrays.asList(
            new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
            new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE)));

    /** Full rights for the authenticated creator (every Baton component shares one digest), read for everyone. */
    // ZooKeeper asks the list whether it contains null, which List.of answers with an exception.
    public static final List<ACL> WRITE_BY_CREATOR_READ_BY_ALL = Collections.unmodifiableList(Arrays.asList(
            new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
            new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));
}
