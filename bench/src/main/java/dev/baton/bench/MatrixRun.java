package dev.baton.bench;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.cli.BatonCli;
import dev.baton.registry.OperationRecord;
import dev.baton.sandbox.SandboxNode;
import dev.baton.sandbox.SteppedClock;
import dev.baton.sandbox.TcpProxy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import picocli.CommandLine;

/**
 * One run of one {@link MatrixCase} on one dialect: a fresh proxied cluster ({@link FailoverScenario#prepareProxied}),
 * the orchestrator(s), the two applications of {@link MatrixApps} writing, the fault, then the consistency check of
 * every write against what each server holds ({@link Consistency}). Everything is closed at the end, also on failure.
 */
final class MatrixRun implements AutoCloseable {
    /** What one run found; {@code error} is set (and {@code report} null) when the run itself could not finish. */
    record Outcome(MatrixCase scenario, String dialect, Consistency.Report report, List<String> notes, String error) {}

    /** Phases of an operation in the order an orchestrator goes through them; "published" is the new epoch. */
    static final List<String> PHASES =
            List.of(OperationRecord.STARTED, OperationRecord.FENCED, OperationRecord.PROMOTING, "published");

    private static final Duration FIRST_PRIMARY = Duration.ofSeconds(30);
    private static final Duration CATCH_UP = Duration.ofSeconds(20);

    final FailoverScenario scenario;
    final EpochWatch watch;
    final List<String> notes = new ArrayList<>();
    final String initialPrimary;
    private final List<Process> orchestrators;
    private final List<String> orchestratorIds = List.of("orch-a", "orch-b");
    private final String caseId;
    private MatrixApps apps;
    private long faultNanos;
    /** The in-process orchestrator's wall clock, which a case may step (not with {@link MatrixCase#processes()}). */
    final SteppedClock clock = new SteppedClock();
    /** Every event of the in-process orchestrator, in order. */
    final List<ClusterEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Called on the orchestrator's loop thread with each of its events, before its next probe. */
    volatile Consumer<ClusterEvent> onEvent = e -> {};

    private MatrixRun(FailoverScenario scenario, MatrixCase c) throws Exception {
        this.scenario = scenario;
        this.caseId = c.id();
        this.watch = new EpochWatch(scenario.zooKeeperConnect());
        if (c.processes()) {
            orchestrators = scenario.startOrchestratorProcesses(orchestratorIds);
        } else {
            orchestrators = List.of();
            scenario.startOrchestrator(
                    e -> {
                        events.add(e);
                        onEvent.accept(e);
                    },
                    clock);
        }
        if (watch.awaitEpoch(1, FIRST_PRIMARY) == null) {
            throw new IllegalStateException("no primary published within " + FIRST_PRIMARY.toSeconds() + " s");
        }
        initialPrimary = watch.newest().nodeId();
    }

    static Outcome run(MatrixCase c, String dialect, int rate, Consumer<String> progress) {
        java.nio.file.Path fenceDir = null;
        try {
            String fenceCommand = null;
            if (c.fenceCommand()) {
                fenceDir = java.nio.file.Files.createTempDirectory("baton-matrix-fence-");
                fenceCommand = "touch " + fenceDir.resolve(FENCED_MARKER);
            }
            return run(
                    c,
                    dialect,
                    rate,
                    progress,
                    new FailoverScenario.Proxied(
                            c.zooKeeperServers(), c.partitionableZooKeeper(), c.replicas(), fenceCommand),
                    fenceDir);
        } catch (java.io.IOException e) {
            return new Outcome(c, dialect, null, List.of(), e.toString());
        } finally {
            if (fenceDir != null) {
                try {
                    java.nio.file.Files.deleteIfExists(fenceDir.resolve(FENCED_MARKER));
                    java.nio.file.Files.deleteIfExists(fenceDir);
                } catch (java.io.IOException e) {
                    System.err.println("cleanup: " + e);
                }
            }
        }
    }

    /** The file the fence command of {@link MatrixCase#fenceCommand()} creates when it runs. */
    private static final String FENCED_MARKER = "fence-command-ran";

    /** Where the fence command of this run leaves its marker; null when the case configures none. */
    private java.nio.file.Path fenceMarker;

    /** Whether the configured fence command ran (its marker exists). */
    boolean fenceCommandRan() {
        return fenceMarker != null && java.nio.file.Files.exists(fenceMarker);
    }

    private static Outcome run(
            MatrixCase c,
            String dialect,
            int rate,
            Consumer<String> progress,
            FailoverScenario.Proxied setup,
            java.nio.file.Path fenceDir) {
        try (FailoverScenario s = FailoverScenario.prepareProxied(dialect, setup, p -> {});
                MatrixRun run = new MatrixRun(s, c)) {
            run.fenceMarker = fenceDir == null ? null : fenceDir.resolve(FENCED_MARKER);
            if (c.agents() && System.getenv("BATON_MATRIX_NO_AGENTS") == null) {
                for (SandboxNode n : s.cluster().nodes()) {
                    boolean cutOff = n.id().equals(run.initialPrimary);
                    s.startAgent(n, cutOff ? s.zooKeeperProxied() : s.zooKeeperConnect(), "");
                }
            } else if (c.agents()) {
                run.notes.add("BATON_MATRIX_NO_AGENTS: no agents (baseline)");
            }
            run.apps = new MatrixApps(s, rate, c.agents() ? run.initialPrimary : null);
            Thread.sleep(2000);
            progress.accept(c.id() + " on " + dialect + ": " + c.fault());
            c.inject(run);
            run.apps.stopWriting();
            if (c.agents()) {
                run.notePlainClient();
            }
            return new Outcome(c, dialect, run.check(c), List.copyOf(run.notes), null);
        } catch (Exception | AssertionError e) {
            return new Outcome(c, dialect, null, List.of(), e.toString());
        }
    }

    /**
     * Notes what app A's plain JDBC client had acknowledged by the initial primary after the fault, and when the last
     * such write ended: a client no wrapper fences, stopped only by the agent's fence.
     */
    private void notePlainClient() {
        int port = scenario.node(initialPrimary).port();
        List<Writer.Write> after = apps.writes().stream()
                .filter(w -> w.app().equals(MatrixApps.PLAIN_APP) && w.acknowledged() && w.port() == port)
                .filter(w -> w.endNanos() > faultNanos)
                .toList();
        long last = after.stream().mapToLong(Writer.Write::endNanos).max().orElse(faultNanos);
        notes.add("plain client: " + after.size() + " writes acknowledged by " + initialPrimary
                + " after the fault, the last " + (last - faultNanos) / 1_000_000 + " ms after it");
    }

    // ---------------------------------------------------------------- what the cases use

    /** Marks now as the moment of the fault (recovery and write gaps are measured from the last mark). */
    void fault() {
        faultNanos = System.nanoTime();
    }

    long sinceFaultMs() {
        return (System.nanoTime() - faultNanos) / 1_000_000;
    }

    String primary() {
        return watch.newest().nodeId();
    }

    long epoch() {
        return watch.newest().epoch();
    }

    SandboxNode node(String id) {
        return scenario.node(id);
    }

    /** The nodes other than the published primary, in the sandbox's order. */
    List<String> replicas() {
        String p = primary();
        return scenario.cluster().nodes().stream()
                .map(SandboxNode::id)
                .filter(id -> !id.equals(p))
                .toList();
    }

    /** Waits for a primary record of at least {@code epoch}; notes and returns false when none comes in time. */
    boolean awaitEpoch(long epoch, Duration wait) throws InterruptedException {
        boolean seen = watch.awaitEpoch(epoch, wait) != null;
        if (!seen) {
            notes.add("no epoch " + epoch + " within " + wait.toSeconds() + " s");
        }
        return seen;
    }

    /** Blackholes the orchestrator's link (and optionally app B's) to {@code node}'s published address. */
    void cutFront(String node, boolean appB) {
        scenario.front(node).blackholeFrom(frontCut(appB));
    }

    /** Like {@link #cutFront}, with TCP resets instead of silence: a firewall that rejects. */
    void resetFront(String node, boolean appB) {
        scenario.front(node).refuseFrom(frontCut(appB));
    }

    /** The clients a cut of a node's front proxy applies to: the orchestrator, and app B when {@code appB}. */
    private static Set<InetAddress> frontCut(boolean appB) {
        InetAddress orchestrator = MatrixApps.address(MatrixApps.ORCHESTRATOR_ADDRESS);
        return appB ? Set.of(orchestrator, MatrixApps.address(MatrixApps.APP_B_ADDRESS)) : Set.of(orchestrator);
    }

    /** How {@link #partitionPrimary} cuts the primary and app A off from the rest. */
    enum Cut {
        /** Packets dropped, ZooKeeper too: app A loses its ZooKeeper session's server. */
        DROP,
        /** TCP resets (a firewall that rejects), ZooKeeper too. */
        RESET,
        /**
         * Packets dropped; app A keeps its only ZooKeeper server, a follower that is cut off from the other two
         * servers and goes on answering plain reads from its stale copy.
         */
        STALE_FOLLOWER
    }

    /** Something a case does while a partition is in force, after the cut. */
    interface During {
        void run() throws Exception;
    }

    /**
     * The primary cut off from the orchestrator, its replicas, app B and (for app A) ZooKeeper for 20 s, as {@code
     * cut} says; {@code during} runs once the cut is made. Healed, then the old primary's fence is noted, and when a
     * hold was seen, how long after it the new primary was published.
     */
    void partitionPrimary(Cut cut, During during) throws Exception {
        String old = primary();
        fault();
        switch (cut) {
            case RESET -> {
                resetFront(old, true);
                scenario.replication(old).refuse();
                scenario.zooKeeperProxies().forEach(TcpProxy::refuse);
            }
            case DROP -> {
                cutFront(old, true);
                scenario.replication(old).blackhole();
                scenario.zooKeeperProxies().forEach(TcpProxy::blackhole);
            }
            case STALE_FOLLOWER -> {
                cutFront(old, true);
                scenario.replication(old).blackhole();
                scenario.partitionable().isolate(scenario.appFollower());
            }
        }
        try {
            during.run();
            if (awaitEpoch(2, Duration.ofSeconds(30)) && holdNanos > 0) {
                notes.add("new primary published " + (watch.newest().seenNanos() - holdNanos) / 1_000_000
                        + " ms after the hold was seen");
            }
            Thread.sleep(Math.max(0, 20_000 - sinceFaultMs()));
        } finally {
            healAll();
        }
        if (!node(old).isRunning()) {
            notes.add(old + " was killed during the partition (its agent fenced it)");
        } else {
            long fenced = awaitReadOnly(old, Duration.ofSeconds(20));
            notes.add(
                    fenced < 0
                            ? old + " not fenced within 20 s of the heal"
                            : old + " fenced " + fenced + " ms after the heal");
        }
        Thread.sleep(3000);
    }

    /** Makes every link forward again. */
    void healAll() {
        scenario.cluster().nodes().forEach(n -> {
            scenario.front(n.id()).heal();
            scenario.replication(n.id()).heal();
        });
        scenario.zooKeeperProxies().forEach(p -> p.heal());
        if (scenario.partitionable() != null) {
            scenario.partitionable().heal();
        }
    }

    /**
     * Waits until the operation in progress reaches {@code phase} (or a later one, or a new epoch for "published"),
     * then kills the leading orchestrator process with SIGKILL ({@code term}: SIGTERM). Notes the phase seen.
     */
    void killLeaderAt(String phase, long epochBefore, boolean term, Duration wait) throws Exception {
        int target = PHASES.indexOf(phase);
        long end = System.nanoTime() + wait.toNanos();
        String seen = null;
        while (System.nanoTime() < end) {
            OperationRecord op = watch.operation();
            if (epoch() > epochBefore) {
                seen = "published";
            } else if (op != null) {
                seen = op.phase();
            }
            if (seen != null && PHASES.indexOf(seen) >= target) {
                break;
            }
            seen = null;
            Thread.sleep(1);
        }
        String leader = killLeader(term);
        notes.add((term ? "SIGTERM" : "SIGKILL") + " to leader " + leader + " at phase "
                + (seen == null ? "(not reached: " + phase + ")" : seen));
    }

    /** Kills the leading orchestrator process (SIGKILL, or SIGTERM with {@code term}); returns its id. */
    String killLeader(boolean term) throws Exception {
        String leader = leader();
        Process p = orchestrators.get(orchestratorIds.indexOf(leader));
        if (term) {
            p.destroy();
        } else {
            p.destroyForcibly();
        }
        p.waitFor();
        return leader;
    }

    /**
     * Waits for a hold of kind unconfirmed-primary (the orchestrator told the wrappers to stop using the primary);
     * returns how long after the fault it appeared, -1 when it did not within {@code wait}.
     */
    long awaitUnconfirmedHold(Duration wait) throws Exception {
        long end = System.nanoTime() + wait.toNanos();
        String path = dev.baton.registry.RegistryPaths.hold(FailoverScenario.CLUSTER);
        while (System.nanoTime() < end) {
            byte[] data = null;
            try {
                data = watch.client().getData().forPath(path);
            } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
                // not yet
            }
            if (data != null
                    && new String(data, StandardCharsets.UTF_8)
                            .contains(dev.baton.registry.HoldRecord.UNCONFIRMED_PRIMARY)) {
                holdNanos = System.nanoTime();
                return sinceFaultMs();
            }
            Thread.sleep(5);
        }
        notes.add("no unconfirmed-primary hold within " + wait.toSeconds() + " s");
        return -1;
    }

    /** When {@link #awaitUnconfirmedHold} saw the hold (System.nanoTime), 0 before. */
    private long holdNanos;

    /**
     * How long a hold takes at most to reach every wrapper connected to ZooKeeper (the orchestrator's margin over the
     * lease): this harness sees the hold on its own session, possibly before the applications do.
     */
    private static final long HOLD_PROPAGATION_NANOS = 200_000_000;

    /** Writes that started once the hold had reached every wrapper and were acknowledged by {@code node} anyway. */
    long acknowledgedOnAfterHold(String node) {
        Map<Integer, String> nodeByPort = scenario.nodeByPort();
        return apps.writes().stream()
                .filter(Writer.Write::acknowledged)
                .filter(w -> holdNanos > 0 && w.startNanos() > holdNanos + HOLD_PROPAGATION_NANOS)
                .filter(w -> node.equals(nodeByPort.get(w.port())))
                .count();
    }

    /** Runs {@code baton pause} or {@code baton resume} in this JVM; returns its exit status. */
    int pauseCommand(boolean pause) {
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        return BatonCli.execute(cli, new String[] {
            pause ? "pause" : "resume", "--config", scenario.configFile().toString()
        });
    }

    /** Waits until the operation in progress reaches {@code phase} or a later one; notes it when it does not. */
    void awaitPhase(String phase, Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < end) {
            OperationRecord op = watch.operation();
            if (op != null && PHASES.indexOf(op.phase()) >= PHASES.indexOf(phase)) {
                return;
            }
            Thread.sleep(1);
        }
        notes.add("phase " + phase + " not seen within " + wait.toSeconds() + " s");
    }

    /** Waits until {@code node} receives from the published primary's replication address. */
    boolean awaitFollowing(String node, Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < end) {
            OptionalInt source = NodeRole.sourcePort(scenario.cluster(), node(node));
            if (source.isPresent()
                    && source.getAsInt() == scenario.replication(primary()).port()) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** How the orchestrator describes {@code node} in ZooKeeper: reachable or not, role. */
    String nodeStateOf(String node) throws Exception {
        return new dev.baton.orchestrator.coordination.ClusterRegistry(watch.client(), FailoverScenario.CLUSTER)
                .readNodeStates().stream()
                        .filter(n -> n.nodeId().equals(node))
                        .findFirst()
                        .map(n -> "reachable=" + n.reachable() + ", role=" + n.role())
                        .orElse("no node state");
    }

    /** The orchestrator whose latch node has the lowest sequence number: the leader. */
    String leader() throws Exception {
        var client = watch.client();
        String path = dev.baton.registry.RegistryPaths.leader(FailoverScenario.CLUSTER);
        String first = client.getChildren().forPath(path).stream()
                .min(Comparator.comparing(name -> name.substring(name.lastIndexOf('-') + 1)))
                .orElseThrow();
        return new String(client.getData().forPath(path + "/" + first), StandardCharsets.UTF_8);
    }

    /** Waits until both orchestrator processes are latch participants. */
    void awaitTwoOrchestrators() throws Exception {
        String path = dev.baton.registry.RegistryPaths.leader(FailoverScenario.CLUSTER);
        long end = System.nanoTime() + 30_000_000_000L;
        while (watch.client().getChildren().forPath(path).size() < 2) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("the two orchestrators did not both join the latch in 30 s");
            }
            Thread.sleep(50);
        }
    }

    /** Starts {@code baton switchover --yes --to node} in this JVM, in the background. */
    CompletableFuture<String> switchover(String to) {
        return CompletableFuture.supplyAsync(() -> {
            StringWriter text = new StringWriter();
            CommandLine cli = new CommandLine(new BatonCli());
            cli.setOut(new PrintWriter(text, true));
            cli.setErr(new PrintWriter(text, true));
            int exit = BatonCli.execute(cli, new String[] {
                "switchover", "--config", scenario.configFile().toString(), "--yes", "--to", to, "--timeout", "60"
            });
            return "exit " + exit + ": " + text.toString().strip().replace('\n', ' ');
        });
    }

    /** Waits until no operation is in progress (a new leader finished or rolled it back). */
    void awaitNoOperation(Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (watch.operation() != null && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        if (watch.operation() != null) {
            notes.add("operation still in progress after " + wait.toSeconds() + " s: " + watch.operation());
        }
    }

    /** Notes whether each reachable replica receives from the published primary's replication address. */
    void noteFollowers() {
        String primary = primary();
        int port = scenario.replication(primary).port();
        for (SandboxNode n : scenario.cluster().nodes()) {
            if (n.id().equals(primary) || !n.isRunning()) {
                continue;
            }
            OptionalInt source = NodeRole.sourcePort(scenario.cluster(), n);
            notes.add(n.id()
                    + (source.isPresent() && source.getAsInt() == port
                            ? " follows " + primary
                            : " does not follow " + primary));
        }
    }

    /** Milliseconds until {@code node} refuses writes; -1 when it does not within {@code wait}. */
    long awaitReadOnly(String node, Duration wait) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < wait.toNanos()) {
            Optional<NodeRole> role = NodeRole.read(scenario.cluster(), node(node));
            if (role.isPresent() && role.get().readOnly()) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(100);
        }
        return -1;
    }

    // ---------------------------------------------------------------- the check

    private Consistency.Report check(MatrixCase c) throws InterruptedException {
        LocalCluster cluster = scenario.cluster();
        List<Consistency.Epoch> epochs = watch.epochs();
        String finalPrimary = epochs.get(epochs.size() - 1).nodeId();
        List<Consistency.NodeEnd> ends = List.of();
        long end = System.nanoTime() + CATCH_UP.toNanos();
        do {
            List<Consistency.NodeEnd> read = new ArrayList<>();
            for (SandboxNode n : cluster.nodes()) {
                Optional<NodeRole> role = n.isRunning() ? NodeRole.read(cluster, n) : Optional.empty();
                read.add(new Consistency.NodeEnd(
                        n.id(), role, role.isPresent() ? NodeRole.rows(cluster, n) : Optional.empty()));
            }
            ends = read;
            if (caughtUp(ends, finalPrimary)) {
                break;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < end);
        return Consistency.check(
                apps.writes(), scenario.nodeByPort(), epochs, ends, initialPrimary, faultNanos, c.maxPromotions());
    }

    /** True when every replica holds every row the primary holds. */
    private static boolean caughtUp(List<Consistency.NodeEnd> ends, String primary) {
        Set<Long> onPrimary = ends.stream()
                .filter(e -> e.nodeId().equals(primary))
                .findFirst()
                .flatMap(Consistency.NodeEnd::rows)
                .orElse(Set.of());
        return ends.stream()
                .filter(e -> e.role().map(NodeRole::replica).orElse(false))
                .allMatch(e -> e.rows().map(r -> r.containsAll(onPrimary)).orElse(true));
    }

    Map<Integer, String> nodeByPort() {
        return scenario.nodeByPort();
    }

    /**
     * Stops everything this run started. With {@code -Dbaton.matrix.logs=DIR} the orchestrator processes' logs are
     * copied there first ({@code CASE-DIALECT-ID.log}), as evidence for a defect.
     */
    @Override
    public void close() {
        if (apps != null) {
            apps.close();
        }
        watch.close();
        for (Process p : orchestrators) {
            p.destroyForcibly();
        }
        String logs = System.getProperty("baton.matrix.logs");
        if (logs != null && !orchestrators.isEmpty()) {
            for (String id : orchestratorIds) {
                try {
                    java.nio.file.Path dir = java.nio.file.Files.createDirectories(java.nio.file.Path.of(logs));
                    java.nio.file.Files.copy(
                            scenario.orchestratorLog(id),
                            dir.resolve(caseId + "-" + scenario.cluster().dialect() + "-" + id + ".log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (java.io.IOException e) {
                    System.err.println("cannot keep the log of " + id + ": " + e);
                }
            }
        }
    }
}
