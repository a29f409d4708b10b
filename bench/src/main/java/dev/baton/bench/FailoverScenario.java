package dev.baton.bench;

import dev.baton.jdbc.FailoverDataSource;
import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.Orchestrator;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.SandboxNode;
import dev.baton.sandbox.TcpProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;

/**
 * A whole Baton installation on this machine: a sandbox cluster, an embedded ZooKeeper, one orchestrator and an
 * application DataSource through Baton's wrapper. The demo, the benchmarks and the end-to-end tests all build on
 * it; closing it stops and removes everything, in reverse order.
 */
public final class FailoverScenario implements AutoCloseable {
    public static final String CLUSTER = "demo";

    private final List<AutoCloseable> resources = new ArrayList<>();
    private LocalCluster cluster;
    private EmbeddedZooKeeper zooKeeper;
    private Path configFile;
    private BatonConfig config;
    private Orchestrator orchestrator;
    private FailoverDataSource dataSource;
    private TcpProxy proxy;
    /** The HTTP API's port (0: any free one) and bearer token; the API binds 127.0.0.1. */
    private int apiPort;

    private final String apiToken = newToken();

    private FailoverScenario() {}

    /** Starts the cluster and ZooKeeper, writes the orchestrator's configuration, but starts no orchestrator yet. */
    public static FailoverScenario prepare(String dialect, Consumer<String> progress) throws Exception {
        return prepare(dialect, ServerProfile.DEFAULTS, progress);
    }

    /** Like {@link #prepare(String, Consumer)}, on servers with the given settings. */
    public static FailoverScenario prepare(String dialect, ServerProfile profile, Consumer<String> progress)
            throws Exception {
        return prepare(dialect, profile, progress, false);
    }

    /**
     * Like {@link #prepare(String, Consumer)}; with {@code proxyPrimary} the orchestrator (and the application)
     * reach the initial primary through a {@link TcpProxy}, so that a test can cut only that link while the
     * replicas keep streaming from the primary directly.
     */
    public static FailoverScenario prepare(String dialect, Consumer<String> progress, boolean proxyPrimary)
            throws Exception {
        return prepare(dialect, ServerProfile.DEFAULTS, progress, proxyPrimary);
    }

    private static FailoverScenario prepare(
            String dialect, ServerProfile profile, Consumer<String> progress, boolean proxyPrimary) throws Exception {
        return prepare(dialect, profile, progress, proxyPrimary, 0);
    }

    /** Like {@link #prepare(String, Consumer)}, with the orchestrator's HTTP API on {@code apiPort} (0: any). */
    public static FailoverScenario prepare(String dialect, Consumer<String> progress, int apiPort) throws Exception {
        return prepare(dialect, ServerProfile.DEFAULTS, progress, false, apiPort);
    }

    private static FailoverScenario prepare(
            String dialect, ServerProfile profile, Consumer<String> progress, boolean proxyPrimary, int apiPort)
            throws Exception {
        FailoverScenario s = new FailoverScenario();
        s.apiPort = apiPort;
        try {
            progress.accept(
                    "starting a " + dialect + " primary and two replicas (" + profile.describe(dialect) + ") ...");
            s.cluster = LocalCluster.start(dialect, 2, profile);
            s.resources.add(s.cluster);
            if (proxyPrimary) {
                SandboxNode first = s.cluster.nodes().get(0);
                s.proxy = new TcpProxy(first.host(), first.port());
                s.resources.add(s.proxy);
            }
            progress.accept("starting an embedded ZooKeeper ...");
            s.zooKeeper = EmbeddedZooKeeper.start();
            s.resources.add(s.zooKeeper);
            Path dir = Files.createTempDirectory("baton-scenario-");
            s.resources.add(() -> deleteTree(dir));
            s.configFile = dir.resolve("baton.yml");
            Files.writeString(s.configFile, s.yaml());
            Files.setPosixFilePermissions(s.configFile, PosixFilePermissions.fromString("rw-------"));
            s.config = ConfigLoader.load(s.configFile);
            return s;
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }

    /** Starts the orchestrator, waits for it to publish the first primary, and opens the application DataSource. */
    public PrimaryRecord startOrchestratorAndApplication(ClusterEvent.Listener events, Duration timeout)
            throws Exception {
        orchestrator = new Orchestrator(config, events, Clock.systemUTC());
        resources.add(orchestrator);
        orchestrator.start();
        dataSource = FailoverDataSource.builder()
                .zookeeper(zooKeeper.connectString())
                .namespace("baton")
                .cluster(CLUSTER)
                .user(cluster.user())
                .password(cluster.password())
                .database(cluster.database())
                .initialPrimaryTimeout(timeout)
                .build();
        resources.add(dataSource);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (dataSource.currentPrimary().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no primary published within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(20);
        }
        return dataSource.currentPrimary().get();
    }

    private String yaml() {
        StringBuilder nodes = new StringBuilder();
        for (SandboxNode n : cluster.nodes()) {
            boolean proxied = proxy != null && n == cluster.nodes().get(0);
            nodes.append("      - { id: ")
                    .append(n.id())
                    .append(", host: ")
                    .append(n.host())
                    .append(", port: ")
                    .append(proxied ? proxy.port() : n.port())
                    // the orchestrator reaches the proxied node through the proxy, its replicas directly
                    .append(proxied ? ", replicationAddress: \"" + n.host() + ":" + n.port() + "\"" : "")
                    .append(" }\n");
        }
        return "# written by Baton's sandbox; the password is the sandbox's own\n"
                + "zookeeper: { connect: \"" + zooKeeper.connectString()
                + "\", namespace: baton, sessionTimeout: 4s }\n"
                + "http: { address: 127.0.0.1, port: " + apiPort + ", token: \"" + apiToken + "\" }\n"
                + "clusters:\n"
                + "  - name: " + CLUSTER + "\n"
                + "    dialect: " + cluster.dialect() + "\n"
                + "    user: " + cluster.user() + "\n"
                + "    password: \"" + cluster.password() + "\"\n"
                + (cluster.dialect().equals("postgresql") ? "" : "    database: " + cluster.database() + "\n")
                + (cluster.rejoinCommand() == null
                        ? ""
                        : "    rejoinCommand: \""
                                + cluster.rejoinCommand().replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n")
                + "    pollInterval: 500ms\n"
                + "    recheckInterval: 100ms\n"
                + "    failureThreshold: 3\n"
                + "    nodes:\n" + nodes;
    }

    public LocalCluster cluster() {
        return cluster;
    }

    public EmbeddedZooKeeper zooKeeper() {
        return zooKeeper;
    }

    public Path configFile() {
        return configFile;
    }

    public BatonConfig config() {
        return config;
    }

    /** The proxy in front of the initial primary, or null. */
    public TcpProxy proxy() {
        return proxy;
    }

    public Orchestrator orchestrator() {
        return orchestrator;
    }

    /** The orchestrator's HTTP API, e.g. {@code http://127.0.0.1:8008}; the orchestrator must be started. */
    public String apiUrl() {
        return orchestrator.apiUrl().orElseThrow(() -> new IllegalStateException("the HTTP API is not running"));
    }

    /** The bearer token the HTTP API wants for requests that change something. */
    public String apiToken() {
        return apiToken;
    }

    private static String newToken() {
        byte[] bytes = new byte[24];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public FailoverDataSource dataSource() {
        return dataSource;
    }

    /** The finished operations in the cluster's history, oldest first. */
    public List<HistoryEntry> history() throws Exception {
        try (CuratorFramework client = RegistryClient.start(
                zooKeeper.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            return new ClusterRegistry(client, CLUSTER).readHistory();
        }
    }

    public SandboxNode node(String id) {
        return cluster.node(id);
    }

    @Override
    public void close() {
        List<AutoCloseable> reversed = new ArrayList<>(resources);
        Collections.reverse(reversed);
        resources.clear();
        for (AutoCloseable r : reversed) {
            try {
                r.close();
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
