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
import dev.baton.sandbox.AgentProcess;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.PartitionableEnsemble;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.SandboxNode;
import dev.baton.sandbox.TcpProxy;
import dev.baton.sandbox.ZooKeeperEnsemble;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    /** With {@link #prepareProxied}: ZooKeeper ensemble (when 3 servers), proxies per node, app A's ZooKeeper path. */
    private ZooKeeperEnsemble ensemble;

    /**
     * With {@link Proxied#partitionableZooKeeper()}: the ensemble whose server-to-server links can be cut, and the
     * follower that app A alone talks to (the orchestrator and app B talk to the two others).
     */
    private PartitionableEnsemble partitionable;

    private int appFollower = -1;
    /** A shell command the orchestrator runs as its fence command (STONITH); null for none. */
    private String fenceCommand;

    /** Whether the orchestrator's configuration has the sandbox's rejoinCommand (see {@link #withoutRejoinCommand}). */
    private boolean rejoinCommand = true;

    /** Where the agents' configurations and logs go, once one is started. */
    private Path agentDir;

    private final Map<String, TcpProxy> front = new LinkedHashMap<>();
    private final Map<String, TcpProxy> replication = new LinkedHashMap<>();
    private final List<TcpProxy> zooKeeperProxies = new ArrayList<>();

    private FailoverScenario() {}

    /**
     * Like {@link #prepare(String, Consumer)}, with every link a fault matrix cuts going through a {@link TcpProxy}:
     * each node has a front proxy (its published address: the orchestrator and the applications reach it there) and
     * a replication proxy (its {@code replicationAddress}: replicas stream through it, the initial ones too), and
     * {@link #zooKeeperProxied()} is a second path to ZooKeeper for an application that a partition cuts off from
     * it. ZooKeeper runs as {@code zooKeeperServers} servers (1, or a 3-server ensemble whose servers can be
     * killed one by one).
     */
    public static FailoverScenario prepareProxied(
            String dialect, int zooKeeperServers, int replicas, Consumer<String> progress) throws Exception {
        return prepareProxied(dialect, new Proxied(zooKeeperServers, false, replicas, null), progress);
    }

    /**
     * What {@link #prepareProxied(String, Proxied, Consumer)} builds: {@code zooKeeperServers} (1 or 3); with {@code
     * partitionableZooKeeper} the 3 servers are a {@link PartitionableEnsemble} and app A's path to ZooKeeper leads to
     * one follower alone; {@code fenceCommand} is configured as the cluster's fence command when not null.
     */
    public record Proxied(int zooKeeperServers, boolean partitionableZooKeeper, int replicas, String fenceCommand) {}

    /** Like {@link #prepareProxied(String, int, int, Consumer)}, with the choices of {@code setup}. */
    public static FailoverScenario prepareProxied(String dialect, Proxied setup, Consumer<String> progress)
            throws Exception {
        int zooKeeperServers = setup.zooKeeperServers();
        int replicas = setup.replicas();
        FailoverScenario s = new FailoverScenario();
        s.fenceCommand = setup.fenceCommand();
        try {
            progress.accept("starting a " + dialect + " primary and " + replicas + " replicas (server defaults) ...");
            s.cluster = LocalCluster.start(dialect, replicas, ServerProfile.DEFAULTS);
            s.resources.add(s.cluster);
            for (SandboxNode n : s.cluster.nodes()) {
                s.front.put(n.id(), s.closing(new TcpProxy(n.host(), n.port())));
                s.replication.put(n.id(), s.closing(new TcpProxy(n.host(), n.port())));
            }
            SandboxNode primary = s.cluster.nodes().get(0);
            for (SandboxNode replica :
                    s.cluster.nodes().subList(1, s.cluster.nodes().size())) {
                s.cluster.replicateThrough(
                        replica, s.replication.get(primary.id()).port());
            }
            progress.accept("starting ZooKeeper (" + zooKeeperServers + " server(s)) ...");
            List<String> zkAddresses;
            if (setup.partitionableZooKeeper()) {
                s.partitionable = PartitionableEnsemble.start();
                s.resources.add(s.partitionable);
                s.appFollower = (s.partitionable.leader() + 1) % 3;
                zkAddresses = List.of(s.partitionable.connectString(s.appFollower));
            } else if (zooKeeperServers == 1) {
                s.zooKeeper = EmbeddedZooKeeper.start();
                s.resources.add(s.zooKeeper);
                zkAddresses = List.of(s.zooKeeper.connectString());
            } else {
                s.ensemble = ZooKeeperEnsemble.start(zooKeeperServers);
                s.resources.add(s.ensemble);
                zkAddresses = List.of(s.ensemble.connectString().split(","));
            }
            for (String address : zkAddresses) {
                int colon = address.lastIndexOf(':');
                s.zooKeeperProxies.add(s.closing(
                        new TcpProxy(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))));
            }
            s.writeConfig();
            return s;
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }

    private TcpProxy closing(TcpProxy p) {
        resources.add(p);
        return p;
    }

    private void writeConfig() throws IOException {
        Path dir = Files.createTempDirectory("baton-scenario-");
        resources.add(() -> deleteTree(dir));
        configFile = dir.resolve("baton.yml");
        Files.writeString(configFile, yaml());
        Files.setPosixFilePermissions(configFile, PosixFilePermissions.fromString("rw-------"));
        config = ConfigLoader.load(configFile);
    }

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
            s.writeConfig();
            return s;
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }

    /** Starts an orchestrator in this JVM (events to {@code events}); it is closed on {@link #close()}. */
    public Orchestrator startOrchestrator(ClusterEvent.Listener events) throws Exception {
        return startOrchestrator(events, Clock.systemUTC());
    }

    /** The same, with {@code clock} as the orchestrator's wall clock (a test may step it). */
    public Orchestrator startOrchestrator(ClusterEvent.Listener events, Clock clock) throws Exception {
        orchestrator = new Orchestrator(config, events, clock);
        resources.add(orchestrator);
        orchestrator.start();
        return orchestrator;
    }

    /** Starts the orchestrator, waits for it to publish the first primary, and opens the application DataSource. */
    public PrimaryRecord startOrchestratorAndApplication(ClusterEvent.Listener events, Duration timeout)
            throws Exception {
        startOrchestrator(events);
        dataSource = FailoverDataSource.builder()
                .zookeeper(zooKeeperConnect())
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
            int port = n.port();
            String replicationAddress = null;
            if (proxy != null && n == cluster.nodes().get(0)) {
                // the orchestrator reaches the proxied node through the proxy, its replicas directly
                port = proxy.port();
                replicationAddress = n.host() + ":" + n.port();
            } else if (front.containsKey(n.id())) {
                port = front.get(n.id()).port();
                replicationAddress = n.host() + ":" + replication.get(n.id()).port();
            }
            nodes.append("      - { id: ")
                    .append(n.id())
                    .append(", host: ")
                    .append(n.host())
                    .append(", port: ")
                    .append(port)
                    .append(replicationAddress == null ? "" : ", replicationAddress: \"" + replicationAddress + "\"")
                    .append(" }\n");
        }
        return "# written by Baton's sandbox; the password is the sandbox's own\n"
                + "zookeeper: { connect: \"" + zooKeeperConnect()
                + "\", namespace: baton, sessionTimeout: 4s }\n"
                + "http: { address: 127.0.0.1, port: " + apiPort + ", token: \"" + apiToken + "\" }\n"
                + "clusters:\n"
                + "  - name: " + CLUSTER + "\n"
                + "    dialect: " + cluster.dialect() + "\n"
                + "    user: " + cluster.user() + "\n"
                + "    password: \"" + cluster.password() + "\"\n"
                + (cluster.dialect().equals("postgresql") ? "" : "    database: " + cluster.database() + "\n")
                + (cluster.rejoinCommand() == null || !rejoinCommand
                        ? ""
                        : "    rejoinCommand: " + quoted(cluster.rejoinCommand()) + "\n")
                + (fenceCommand == null ? "" : "    fenceCommand: " + quoted(fenceCommand) + "\n")
                + "    pollInterval: 500ms\n"
                + "    recheckInterval: 100ms\n"
                + "    failureThreshold: 3\n"
                + "    nodes:\n" + nodes;
    }

    /** {@code text} as a double-quoted YAML string. */
    private static String quoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public LocalCluster cluster() {
        return cluster;
    }

    /**
     * Rewrites the orchestrator's configuration without the sandbox's {@code rejoinCommand}, as a cluster whose agents
     * rejoin its nodes is configured; before the orchestrator starts.
     */
    public void withoutRejoinCommand() throws IOException {
        if (orchestrator != null) {
            throw new IllegalStateException("the orchestrator runs already with its configuration");
        }
        rejoinCommand = false;
        writeConfig();
    }

    /** The {@code rejoin} section of an agent's configuration for this PostgreSQL sandbox (its superuser, its tools). */
    public String agentRejoinYaml() {
        if (!(cluster.sandbox() instanceof dev.baton.sandbox.PostgresSandbox pg)) {
            throw new IllegalStateException("the agent rejoins PostgreSQL nodes only");
        }
        return pg.agentRejoinYaml("never");
    }

    /**
     * Starts a {@code baton agent} process beside every node (fence: stop), on ZooKeeper {@link #zooKeeperConnect()},
     * each with {@code extra} appended to its configuration (YAML lines, e.g. {@code killHungServer: true}), and waits
     * until every one has published its record.
     */
    public void startAgents(String extra) throws Exception {
        for (SandboxNode n : cluster.nodes()) {
            startAgent(n, zooKeeperConnect(), extra);
        }
    }

    /** Starts the agent of {@code node}, talking to ZooKeeper at {@code zooKeeper}; closed with the scenario. */
    public AgentProcess startAgent(SandboxNode node, String zooKeeper, String extra) throws Exception {
        if (agentDir == null) {
            agentDir = Files.createTempDirectory("baton-agents-");
            Path dir = agentDir;
            resources.add(() -> deleteTree(dir));
        }
        String server;
        if (node instanceof PgNode pg) {
            server = "  dataDirectory: " + pg.dataDir() + "\n";
        } else if (node instanceof MariaDbNode db) {
            server = "  dataDirectory: " + db.dataDir() + "\n  pidFile: " + db.pidFile() + "\n";
        } else {
            throw new IllegalArgumentException("no agent for " + node);
        }
        Path file = agentDir.resolve(node.id() + ".yml");
        Files.writeString(
                file,
                "zookeeper: { connect: \"" + zooKeeper + "\", namespace: baton, sessionTimeout: 4s }\n"
                        + "cluster: " + CLUSTER + "\nnode: " + node.id() + "\ndialect: " + cluster.dialect() + "\n"
                        + "server:\n" + server + extra);
        AgentProcess agent = AgentProcess.start(node.id(), file, agentDir.resolve(node.id() + ".log"));
        resources.add(agent);
        try (CuratorFramework client =
                RegistryClient.start(zooKeeperConnect(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            String path = dev.baton.registry.RegistryPaths.agent(CLUSTER, node.id());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (client.checkExists().forPath(path) == null) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException(
                            "the agent of " + node.id() + " published no record within 30 s:\n" + agent.log());
                }
                Thread.sleep(20);
            }
        }
        return agent;
    }

    /** The single ZooKeeper server; null when the scenario runs an ensemble. */
    public EmbeddedZooKeeper zooKeeper() {
        return zooKeeper;
    }

    /** The ZooKeeper ensemble of {@link #prepareProxied} with 3 servers; null otherwise. */
    public ZooKeeperEnsemble ensemble() {
        return ensemble;
    }

    /** ZooKeeper's connect string for the orchestrator and every client on its side of any partition. */
    public String zooKeeperConnect() {
        if (partitionable != null) {
            List<String> others = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                if (i != appFollower) {
                    others.add(partitionable.connectString(i));
                }
            }
            return String.join(",", others);
        }
        return ensemble != null ? ensemble.connectString() : zooKeeper.connectString();
    }

    /** The ensemble of {@link Proxied#partitionableZooKeeper()}; null otherwise. */
    public PartitionableEnsemble partitionable() {
        return partitionable;
    }

    /** The server of {@link #partitionable()} that app A alone talks to, a follower when the scenario started. */
    public int appFollower() {
        return appFollower;
    }

    /** A second path to ZooKeeper, through proxies that {@link #zooKeeperProxies()} can cut; empty if none. */
    public String zooKeeperProxied() {
        return String.join(
                ",", zooKeeperProxies.stream().map(p -> "127.0.0.1:" + p.port()).toList());
    }

    public List<TcpProxy> zooKeeperProxies() {
        return List.copyOf(zooKeeperProxies);
    }

    /** The proxy at node {@code id}'s published address (orchestrator, applications); null if not proxied. */
    public TcpProxy front(String id) {
        return front.get(id);
    }

    /** The proxy at node {@code id}'s replication address (replicas stream through it); null if not proxied. */
    public TcpProxy replication(String id) {
        return replication.get(id);
    }

    /** The node whose server listens on {@code port} (what the workload's insert reports), by id. */
    public Map<Integer, String> nodeByPort() {
        Map<Integer, String> byPort = new LinkedHashMap<>();
        cluster.nodes().forEach(n -> byPort.put(n.port(), n.id()));
        return byPort;
    }

    /**
     * Starts {@code ids.size()} real {@code baton run} processes (one JVM each, this JVM's class path), each with
     * its {@code orchestratorId} and a log file next to the configuration; they are killed on {@link #close()}.
     */
    public List<Process> startOrchestratorProcesses(List<String> ids) throws IOException {
        List<Process> processes = new ArrayList<>();
        String yaml = Files.readString(configFile);
        for (String id : ids) {
            Path file = configFile.resolveSibling(id + ".yml");
            Files.writeString(file, "orchestratorId: " + id + "\n" + yaml);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            Process p = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-Xmx256m",
                            "-cp",
                            System.getProperty("java.class.path"),
                            "dev.baton.orchestrator.cli.BatonCli",
                            "run",
                            "--config",
                            file.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(configFile.resolveSibling(id + ".log").toFile())
                    .start();
            resources.add(() -> p.destroyForcibly().waitFor());
            processes.add(p);
        }
        return processes;
    }

    /** Where {@link #startOrchestratorProcesses} writes the log of orchestrator {@code id}. */
    public Path orchestratorLog(String id) {
        return configFile.resolveSibling(id + ".log");
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
        try (CuratorFramework client =
                RegistryClient.start(zooKeeperConnect(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3))) {
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
