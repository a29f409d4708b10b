package dev.baton.bench;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;

/**
 * Watches the cluster's primary record and operation record from outside Baton, on a link no fault cuts: when each
 * epoch appeared (for the split-brain count) and which phase the operation in progress is in (to kill an
 * orchestrator at a chosen step). Polls every few milliseconds rather than relying on watches, so that it keeps
 * going through a ZooKeeper outage.
 */
final class EpochWatch implements AutoCloseable {
    private static final long POLL_MS = 5;

    private final CuratorFramework client;
    private final ClusterRegistry registry;
    private final List<Consistency.Epoch> epochs = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile OperationRecord operation;
    private volatile boolean running = true;

    EpochWatch(String zookeeper) {
        this.client = RegistryClient.start(zookeeper, "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        this.registry = new ClusterRegistry(client, FailoverScenario.CLUSTER);
        this.thread = new Thread(this::loop, "baton-epoch-watch");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop() {
        while (running) {
            try {
                Optional<PrimaryRecord> record = registry.readPrimary().map(v -> v.value());
                long now = System.nanoTime();
                if (record.isPresent()
                        && (epochs.isEmpty() || newest().epoch() < record.get().epoch())) {
                    epochs.add(new Consistency.Epoch(
                            record.get().epoch(), record.get().nodeId(), now));
                }
                operation = readOperation();
            } catch (Exception e) {
                // ZooKeeper unreachable (a quorum-loss scenario): keep polling
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private OperationRecord readOperation() throws Exception {
        String path = RegistryPaths.operation(FailoverScenario.CLUSTER);
        if (client.checkExists().forPath(path) == null) {
            return null;
        }
        try {
            return RegistryJson.read(client.getData().forPath(path), OperationRecord.class);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
            return null; // deleted between the two calls
        }
    }

    /** The watch's own ZooKeeper client, for other reads from outside Baton. */
    CuratorFramework client() {
        return client;
    }

    List<Consistency.Epoch> epochs() {
        return List.copyOf(epochs);
    }

    Consistency.Epoch newest() {
        return epochs.get(epochs.size() - 1);
    }

    /** Waits until a record with an epoch of at least {@code epoch} was seen; returns it, or null after the wait. */
    Consistency.Epoch awaitEpoch(long epoch, Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < end) {
            if (!epochs.isEmpty() && newest().epoch() >= epoch) {
                return newest();
            }
            Thread.sleep(POLL_MS);
        }
        return null;
    }

    /** The operation in progress as last read, or null. */
    OperationRecord operation() {
        return operation;
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
