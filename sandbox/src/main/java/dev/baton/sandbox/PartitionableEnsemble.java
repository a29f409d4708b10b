package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.security.sasl.SaslException;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.apache.zookeeper.server.quorum.QuorumPeer.ServerState;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;

/**
 * A real three-server ZooKeeper ensemble, in-process, in which every server-to-server link (quorum and leader
 * election) passes through a {@link TcpProxy}, so that a test can cut one server off from the other two while its
 * client port stays reachable. It exists to show what a client of a partitioned follower sees: plain reads go on
 * answering from the follower's stale copy until it gives up on its leader (syncLimit × tickTime: 10 s), while
 * {@code sync()} and the reads queued behind it in the session do not complete until then, and then fail with
 * CONNECTIONLOSS.
 *
 * <p>Each server has its own {@code server-N/zoo.cfg}: its own {@code server.} line names its real quorum and election
 * ports (it binds them), its lines for the others name the proxies of the links from it to them, one proxy per
 * direction and port. Its own line binds 0.0.0.0 rather than 127.0.0.1 because a server that opens an election
 * connection to a server with a higher id sends its own election address, and the other server drops the connection
 * and connects back to that address, past every proxy, unless it is a wildcard address (then it uses its own
 * configuration: QuorumCnxManager.InitialMessage). The configuration is static ({@code reconfigEnabled=false}): a
 * follower then ignores the server list the leader sends during sync (QuorumPeer.setLastSeenQuorumVerifier and
 * processReconfig return at once), so no server learns another's real ports. Timing is zoo_sample.cfg's (tickTime
 * 2000, initLimit 10, syncLimit 5). ZooKeeper sets an unknown key of a configuration as a system property: {@code
 * admin.enableServer=false} turns the admin server off for the whole JVM.
 */
public final class PartitionableEnsemble implements AutoCloseable {
    private static final int SIZE = 3;
    private static final long START_TIMEOUT_MS = 60_000;
    private static final long STOP_TIMEOUT_MS = 30_000;

    private final Path dir;
    private final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
    private final List<Server> servers = new CopyOnWriteArrayList<>();
    private final List<TcpProxy> proxies = new CopyOnWriteArrayList<>();
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    /** The proxies of the connections server {@code from} opens to server {@code to}. */
    private record Link(int from, int to, TcpProxy quorum, TcpProxy election) {}

    private PartitionableEnsemble(Path dir) {
        this.dir = dir;
        this.shutdownHook = SandboxDir.registerHook("partitionable-zookeeper", this::close);
    }

    /** Starts three servers and returns once each of them serves a client (a quorum follows one leader). */
    public static PartitionableEnsemble start() throws IOException, InterruptedException {
        PartitionableEnsemble ensemble = new PartitionableEnsemble(SandboxDir.create("baton-zk-"));
        try {
            ensemble.boot();
            return ensemble;
        } catch (IOException | InterruptedException | RuntimeException e) {
            ensemble.close();
            throw e;
        }
    }

    private void boot() throws IOException, InterruptedException {
        List<Integer> ports = Ports.free(3 * SIZE); // client, quorum, election of server i: 3i, 3i + 1, 3i + 2
        for (int from = 0; from < SIZE; from++) {
            for (int to = 0; to < SIZE; to++) {
                if (from != to) {
                    TcpProxy quorum = new TcpProxy("127.0.0.1", ports.get(3 * to + 1));
                    proxies.add(quorum);
                    TcpProxy election = new TcpProxy("127.0.0.1", ports.get(3 * to + 2));
                    proxies.add(election);
                    links.add(new Link(from, to, quorum, election));
                }
            }
        }
        for (int i = 0; i < SIZE; i++) {
            clientPorts.add(ports.get(3 * i));
            Server server = new Server(i, configure(i, ports));
            servers.add(server);
            server.thread.start();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
        for (int i = 0; i < SIZE; i++) {
            awaitServing(i, deadline);
        }
    }

    /** Writes server {@code i}'s {@code myid} and {@code zoo.cfg} and parses them as ZooKeeper's main does. */
    private QuorumPeerConfig configure(int i, List<Integer> ports) throws IOException {
        Path home = Files.createDirectories(dir.resolve("server-" + i));
        Path data = Files.createDirectories(home.resolve("data"));
        Files.writeString(data.resolve("myid"), (i + 1) + "\n");
        // zoo_sample.cfg's timing; its own line binds the real ports, the others name the proxies from it
        StringBuilder cfg = new StringBuilder(
                """
                tickTime=2000
                initLimit=10
                syncLimit=5
                dataDir=%s
                clientPort=%d
                clientPortAddress=127.0.0.1
                reconfigEnabled=false
                admin.enableServer=false
                server.%d=0.0.0.0:%d:%d
                """
                        .formatted(data, clientPorts.get(i), i + 1, ports.get(3 * i + 1), ports.get(3 * i + 2)));
        links.stream()
                .filter(l -> l.from() == i)
                .forEach(l -> cfg.append("server.%d=127.0.0.1:%d:%d\n"
                        .formatted(l.to() + 1, l.quorum().port(), l.election().port())));
        Path file = Files.writeString(home.resolve("zoo.cfg"), cfg);
        QuorumPeerConfig config = new QuorumPeerConfig();
        try {
            config.parse(file.toString());
        } catch (QuorumPeerConfig.ConfigException e) {
            throw new SandboxException("ZooKeeper server " + i + ": bad " + file + ": " + e.getMessage(), e);
        }
        return config;
    }

    /** Waits until a client of server {@code i} alone gets a session (a quorum write) and an answer. */
    private void awaitServing(int i, long deadline) throws IOException, InterruptedException {
        CountDownLatch connectedOrExited = new CountDownLatch(1);
        Server server = servers.get(i);
        server.exited.whenComplete((v, e) -> connectedOrExited.countDown());
        try (ZooKeeper client = new ZooKeeper(connectString(i), 30_000, e -> {
            if (e.getState() == KeeperState.SyncConnected) {
                connectedOrExited.countDown();
            }
        })) {
            boolean signalled = connectedOrExited.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (server.exited.isDone()) {
                String why = server.exited
                        .handle((v, e) -> e == null ? "exited" : e.toString())
                        .join();
                throw new SandboxException("ZooKeeper server " + i + " stopped while starting: " + why);
            }
            if (!signalled) {
                throw new SandboxException("ZooKeeper server " + i + " on " + connectString(i) + " serves no client "
                        + START_TIMEOUT_MS + " ms after start: states " + states());
            }
            client.exists("/", false);
        } catch (KeeperException e) {
            throw new SandboxException("ZooKeeper server " + i + " does not answer: " + e.getMessage(), e);
        }
    }

    /** The client addresses of the three servers: {@code 127.0.0.1:P0,127.0.0.1:P1,127.0.0.1:P2}. */
    public String connectString() {
        return String.join(",", clientPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    }

    /** Server {@code server}'s client address alone. */
    public String connectString(int server) {
        return "127.0.0.1:" + clientPorts.get(check(server));
    }

    /**
     * The index of the server that is leading; an isolated leader goes on leading until it notices it lost its quorum
     * (syncLimit × tickTime), meanwhile the first leading server is returned.
     */
    public int leader() {
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).state() == ServerState.LEADING) {
                return i;
            }
        }
        throw new SandboxException("no ZooKeeper server is leading: states " + states());
    }

    /** Blackholes every quorum and election link to or from {@code server}; its client port stays reachable. */
    public void isolate(int server) {
        check(server);
        for (Link l : links) {
            if (l.from() == server || l.to() == server) {
                l.quorum().blackhole();
                l.election().blackhole();
            }
        }
    }

    /** Every link forwards again, with the bytes held while it was cut. */
    public void heal() {
        proxies.forEach(TcpProxy::heal);
    }

    private static int check(int server) {
        if (server < 0 || server >= SIZE) {
            throw new IllegalArgumentException("server: " + server + " is not 0, 1 or 2");
        }
        return server;
    }

    private List<ServerState> states() {
        return servers.stream().map(Server::state).toList();
    }

    /** Closes the proxies (no server blocks on a cut link), stops the servers, deletes the directory; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        proxies.forEach(TcpProxy::close);
        RuntimeException failure = null; // every step is tried, the last failure thrown (as SandboxDir.tearDown)
        for (Server server : servers) {
            try {
                server.stop();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        try {
            SandboxDir.deleteRecursively(dir);
        } catch (RuntimeException e) {
            failure = e;
        }
        SandboxDir.unregisterHook(shutdownHook);
        if (failure != null) {
            throw failure;
        }
    }

    /** One server: {@link QuorumPeerMain#runFromConfig} on a daemon thread, its peer kept for its state and stop. */
    private static final class Server extends QuorumPeerMain {
        private final int index;
        private final Thread thread;
        private final CompletableFuture<QuorumPeer> peer = new CompletableFuture<>();
        private final CompletableFuture<Void> exited = new CompletableFuture<>();

        Server(int index, QuorumPeerConfig config) {
            this.index = index;
            this.thread = new Thread(
                    () -> {
                        try {
                            runFromConfig(config);
                        } catch (Exception e) {
                            exited.completeExceptionally(e);
                        } finally {
                            exited.complete(null);
                        }
                    },
                    "zookeeper-partitionable-" + index);
            thread.setDaemon(true);
        }

        @Override
        protected QuorumPeer getQuorumPeer() throws SaslException {
            QuorumPeer created = super.getQuorumPeer();
            peer.complete(created);
            return created;
        }

        ServerState state() {
            QuorumPeer p = peer.getNow(null);
            return p == null || exited.isDone() ? null : p.getPeerState();
        }

        void stop() {
            QuorumPeer p = peer.getNow(null);
            if (p != null) {
                p.shutdown();
            }
            try {
                thread.join(STOP_TIMEOUT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                throw new SandboxException(
                        "ZooKeeper server " + index + " did not stop within " + STOP_TIMEOUT_MS + " ms");
            }
        }
    }
}
