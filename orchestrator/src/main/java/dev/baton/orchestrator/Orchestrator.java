package dev.baton.orchestrator;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.dialect.Dialects;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.RetryUntilElapsed;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One orchestrator process: a ZooKeeper session, its membership node, and a supervisor per cluster. */
public final class Orchestrator implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Orchestrator.class);

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private static final java.time.Duration CALL_BOUND = java.time.Duration.ofSeconds(1);

    private final BatonConfig config;
    private final ClusterEvent.Listener listener;
    private final Clock clock;
    private final String id;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final List<ClusterSupervisor> supervisors = new ArrayList<>();
    private CuratorFramework client;
    private PersistentNode membership;

    public Orchestrator(BatonConfig config, ClusterEvent.Listener listener, Clock clock) {
        this.config = config;
        this.listener = listener;
        this.clock = clock;
        this.id = config.orchestratorId() != null ? config.orchestratorId() : defaultId();
        for (ClusterConfig cluster : config.clusters()) {
            Dialects.forCluster(cluster); // refuse an unsupported dialect before touching anything
        }
    }

    public String id() {
        return id;
    }

    /** Connects to ZooKeeper (failing fast when it is unreachable) and starts supervising every cluster. */
    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("orchestrator was already started");
        }
        var zk = config.zookeeper();
        // Every ZooKeeper call of the HA loops is bounded: at most 1 s waiting for a connection, retried for at most
        // 1 s more; a round that cannot reach ZooKeeper fails and the next one tries again.
        client = RegistryClient.start(
                zk.connect(),
                zk.namespace(),
                zk.sessionTimeout(),
                zk.connectionTimeout().compareTo(CALL_BOUND) < 0 ? zk.connectionTimeout() : CALL_BOUND,
                zk.digest(),
                new RetryUntilElapsed((int) CALL_BOUND.toMillis(), 100),
                zk.clientProperties());
        if (!client.blockUntilConnected((int) zk.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            client.close();
            throw new IllegalStateException("zookeeper.connect: cannot reach ZooKeeper at " + zk.connect() + " within "
                    + zk.connectionTimeout().toMillis() + " ms");
        }
        membership = new PersistentNode(
                client, CreateMode.EPHEMERAL, false, RegistryPaths.member(id), id.getBytes(StandardCharsets.UTF_8));
        membership.start();
        for (ClusterConfig cluster : config.clusters()) {
            ClusterSupervisor supervisor =
                    new ClusterSupervisor(cluster, Dialects.forCluster(cluster), client, id, listener, clock);
            supervisors.add(supervisor);
            supervisor.start();
        }
        log.info(
                "orchestrator {} started for clusters {}",
                id,
                config.clusters().stream().map(ClusterConfig::name).toList());
    }

    public boolean isLeader(String cluster) {
        for (int i = 0; i < supervisors.size(); i++) {
            if (config.clusters().get(i).name().equals(cluster)) {
                return supervisors.get(i).isLeader();
            }
        }
        return false;
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            return;
        }
        supervisors.forEach(ClusterSupervisor::close);
        try {
            membership.close();
        } catch (Exception e) {
            log.debug("closing the membership node failed", e);
        }
        client.close();
        log.info("orchestrator {} stopped", id);
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "host";
        }
        String name = host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
        return name.replaceAll("[^A-Za-z0-9_.-]", "_");
    }
}
