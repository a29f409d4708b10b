package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * An in-process ZooKeeper ensemble (curator-test {@link TestingCluster}) on free ports outside the kernel's ephemeral
 * range ({@link Ports}), for quorum tests.
 * Everything the servers write, their data and the configuration file ZooKeeper's embedded server writes beside it
 * at every start, lies in one sandbox directory, removed on {@link #close()} (or by the next sandbox if this JVM
 * dies).
 */
public final class ZooKeeperEnsemble implements AutoCloseable {
    private final Path dir;
    private final TestingCluster cluster;
    private final List<InstanceSpec> servers;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private ZooKeeperEnsemble(Path dir, TestingCluster cluster) {
        this.dir = dir;
        this.cluster = cluster;
        this.servers = List.copyOf(cluster.getInstances());
        this.shutdownHook = SandboxDir.registerHook("zookeeper-ensemble", this::close);
    }

    /** Starts {@code size} servers (3 or 5 for a meaningful quorum). */
    public static ZooKeeperEnsemble start(int size) throws Exception {
        return start(size, false);
    }

    /**
     * Starts {@code size} servers; with {@code unlimitedConnections} they accept any number of connections from one
     * address, where ZooKeeper allows 60 by default ({@code maxClientCnxns}): for a benchmark that opens a session per
     * simulated client, all from 127.0.0.1.
     */
    public static ZooKeeperEnsemble start(int size, boolean unlimitedConnections) throws Exception {
        if (size < 1 || size > 7) {
            throw new IllegalArgumentException("size: " + size + " is not between 1 and 7");
        }
        Path dir = SandboxDir.create("baton-zk-");
        TestingCluster cluster = null;
        try {
            List<InstanceSpec> specs = new ArrayList<>();
            // client, election and quorum ports, outside the ephemeral range: the servers bind them one after the
            // other while the first ones already connect out to their peers
            List<Integer> ports = Ports.free(3 * size);
            for (int i = 0; i < size; i++) {
                // the embedded server writes its configuration file into its data dir's parent: server-N
                Path data = Files.createDirectories(dir.resolve("server-" + i).resolve("data"));
                specs.add(new InstanceSpec(
                        data.toFile(),
                        ports.get(3 * i),
                        ports.get(3 * i + 1),
                        ports.get(3 * i + 2),
                        false,
                        -1,
                        -1,
                        unlimitedConnections ? 0 : -1));
            }
            cluster = new TestingCluster(specs);
            cluster.start();
            return new ZooKeeperEnsemble(dir, cluster);
        } catch (Exception e) {
            if (cluster != null) {
                cluster.close();
            }
            SandboxDir.deleteRecursively(dir);
            throw e;
        }
    }

    /** {@code 127.0.0.1:P1,127.0.0.1:P2,...}. */
    public String connectString() {
        return String.join(
                ",", servers.stream().map(s -> "127.0.0.1:" + s.getPort()).toList());
    }

    /** The client ports of the servers, in index order. */
    public List<Integer> ports() {
        return servers.stream().map(InstanceSpec::getPort).toList();
    }

    public int size() {
        return servers.size();
    }

    /** Stops server {@code index} (0-based), keeping its data. */
    public void stop(int index) {
        try {
            cluster.killServer(servers.get(index));
        } catch (Exception e) {
            throw new SandboxException("cannot stop ZooKeeper server " + index + ": " + e.getMessage(), e);
        }
    }

    /** Restarts server {@code index} (0-based) on the same port with the same data. */
    public void restart(int index) {
        try {
            cluster.restartServer(servers.get(index));
        } catch (Exception e) {
            throw new SandboxException("cannot restart ZooKeeper server " + index + ": " + e.getMessage(), e);
        }
    }

    /** Stops every server and deletes their data; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            cluster.close();
        } catch (IOException e) {
            throw new SandboxException("cannot close the ZooKeeper ensemble: " + e.getMessage(), e);
        } finally {
            SandboxDir.deleteRecursively(dir);
            SandboxDir.unregisterHook(shutdownHook);
        }
    }
}
