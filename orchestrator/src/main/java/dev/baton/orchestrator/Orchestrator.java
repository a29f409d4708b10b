package dev.baton.orchestrator;

import dev.baton.orchestrator.api.ApiServer;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.dialect.Dialects;
import dev.baton.orchestrator.metrics.OrchestratorMetrics;
import dev.baton.registry.NodeState;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private final OrchestratorMetrics metrics;
    private final Clock clock;
    private final String id;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final List<ClusterSupervisor> supervisors = new ArrayList<>();
    private CuratorFramework client;
    private PersistentNode membership;
    private ApiServer api;

    public Orchestrator(BatonConfig config, ClusterEvent.Listener listener, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.id = config.orchestratorId() != null ? config.orchestratorId() : defaultId();
        this.metrics = new OrchestratorMetrics(config, this::isLeader);
        this.listener = new Both(metrics, listener);
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
        metrics.flag(
                "baton.zookeeper.connected",
                "1 while this orchestrator's ZooKeeper session is connected",
                () -> client.getZookeeperClient().isConnected());
        if (config.http() != null) {
            api = new ApiServer(config.http(), config, apiHost(), clock);
            try {
                api.start();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
        log.info(
                "orchestrator {} started for clusters {}",
                id,
                config.clusters().stream().map(ClusterConfig::name).toList());
    }

    public OrchestratorMetrics metrics() {
        return metrics;
    }

    /** The HTTP API's base URL (e.g. {@code http://127.0.0.1:8008}), or empty when it is off or not started. */
    public Optional<String> apiUrl() {
        return Optional.ofNullable(api).map(ApiServer::url);
    }

    private ApiServer.Host apiHost() {
        return new ApiServer.Host() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public boolean leads(String cluster) {
                return isLeader(cluster);
            }

            @Override
            public CuratorFramework client() {
                return client;
            }

            @Override
            public OrchestratorMetrics metrics() {
                return metrics;
            }
        };
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
        if (api != null) {
            api.close();
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

    /** Hands every event and observation to the metrics first, then to the caller's listener. */
    private record Both(ClusterEvent.Listener first, ClusterEvent.Listener second) implements ClusterEvent.Listener {
        @Override
        public void on(ClusterEvent event) {
            first.on(event);
            second.on(event);
        }

        @Override
        public void observed(String cluster, List<NodeState> states, Map<String, Duration> probeTimes) {
            first.observed(cluster, states, probeTimes);
            second.observed(cluster, states, probeTimes);
        }
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
