package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.test.TestingServer;

/** A single in-process ZooKeeper server (curator-test {@link TestingServer}) on a free port, data in a temp dir. */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private final Path dir;
    private final TestingServer server;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private EmbeddedZooKeeper(Path dir, TestingServer server) {
        this.dir = dir;
        this.server = server;
        this.shutdownHook = SandboxDir.registerHook("embedded-zookeeper", this::close);
    }

    /** Starts on a free port (outside the ephemeral range, see {@link Ports}) with a fresh temp data dir. */
    public static EmbeddedZooKeeper start() throws Exception {
        return start(-1, java.util.Map.of());
    }

    /**
     * Like {@link #start()}, for a test about a server setting: {@code tickTime} in ms (-1: curator-test's default)
     * and {@code settings}, zoo.cfg keys such as {@code maxSessionTimeout}.
     */
    public static EmbeddedZooKeeper start(int tickTime, java.util.Map<String, Object> settings) throws Exception {
        Path dir = SandboxDir.create("baton-zk-");
        try {
            Path data = Files.createDirectories(dir.resolve("data"));
            org.apache.curator.test.InstanceSpec spec = new org.apache.curator.test.InstanceSpec(
                    data.toFile(), Ports.free(), -1, -1, true, -1, tickTime, -1, settings);
            return new EmbeddedZooKeeper(dir, new TestingServer(spec, true));
        } catch (Exception e) {
            SandboxDir.deleteRecursively(dir);
            throw e;
        }
    }

    /** {@code 127.0.0.1:PORT}. */
    public String connectString() {
        return "127.0.0.1:" + server.getPort();
    }

    public int port() {
        return server.getPort();
    }

    /** The temp dir holding the server's data; removed by {@link #close()}. */
    public Path baseDir() {
        return dir;
    }

    /** Stops the server but keeps its data (a ZooKeeper outage). */
    public void stop() {
        try {
            server.stop();
        } catch (IOException e) {
            throw new SandboxException("cannot stop ZooKeeper on port " + port() + ": " + e.getMessage(), e);
        }
    }

    /** Starts again on the same port with the same data. */
    public void restart() {
        try {
            server.restart();
        } catch (Exception e) {
            throw new SandboxException("cannot restart ZooKeeper on port " + port() + ": " + e.getMessage(), e);
        }
    }

    /** Stops the server and deletes its temp dir; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            // the dir goes anyway
        } finally {
            SandboxDir.deleteRecursively(dir);
            SandboxDir.unregisterHook(shutdownHook);
        }
    }
}
