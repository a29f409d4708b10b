package dev.baton.orchestrator.coordination;

import dev.baton.registry.HistoryEntry;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.NodeState;
import dev.baton.registry.OperationRecord;
import dev.baton.registry.OperationReport;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes one cluster's part of the ZooKeeper contract. The primary record is only ever written with a
 * version check, so that of two writers who read the same record, exactly one wins.
 */
public final class ClusterRegistry {
    private static final Logger log = LoggerFactory.getLogger(ClusterRegistry.class);

    private final CuratorFramework client;
    private final String cluster;

    public ClusterRegistry(CuratorFramework client, String cluster) {
        this.client = client;
        this.cluster = cluster;
    }

    public String cluster() {
        return cluster;
    }

    public CuratorFramework client() {
        return client;
    }

    public Optional<Versioned<PrimaryRecord>> readPrimary() throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(RegistryPaths.primary(cluster));
            return Optional.of(new Versioned<>(RegistryJson.read(data, PrimaryRecord.class), stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    /** Publishes the first primary of a cluster; fails if any record exists already. */
    public void publishFirst(PrimaryRecord record) throws Exception {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .forPath(RegistryPaths.primary(cluster), RegistryJson.write(record));
        } catch (KeeperException.NodeExistsException e) {
            throw new StaleWriteException("a primary record for cluster " + cluster + " exists already");
        }
    }

    /** Replaces the record read at {@code expectedVersion}; throws when anyone wrote it since. */
    public void publish(PrimaryRecord record, int expectedVersion) throws Exception {
        try {
            // idempotent: a retry after a lost connection whose first attempt landed is not reported as a lost race
            client.setData()
                    .idempotent()
                    .withVersion(expectedVersion)
                    .forPath(RegistryPaths.primary(cluster), RegistryJson.write(record));
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            throw new StaleWriteException("the primary record of cluster " + cluster + " changed since version "
                    + expectedVersion + " was read; epoch " + record.epoch() + " not published");
        }
    }

    /** How a publication after a promotion ended. */
    public enum Publication {
        /** The record now names the promoted node (written by us, or found so after a retry). */
        PUBLISHED,
        /** Someone else published a newer record naming another node: ours must not take writes. */
        LOST
    }

    /**
     * Publishes {@code record} after its node was promoted, retrying lost connections for up to {@code patience}
     * (safe even after losing leadership: the write is versioned). A version conflict is resolved by reading the
     * record again: if it names our node at our epoch or later, our write (or an equivalent one) is in place.
     *
     * @throws Exception when it could not tell within {@code patience} (ZooKeeper unreachable, leadership lost)
     */
    public Publication publishAfterPromotion(PrimaryRecord record, int expectedVersion, java.time.Duration patience)
            throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                publish(record, expectedVersion);
                return Publication.PUBLISHED;
            } catch (StaleWriteException e) {
                Optional<Versioned<PrimaryRecord>> now = readPrimary();
                boolean ours = now.isPresent()
                        && now.get().value().nodeId().equals(record.nodeId())
                        && now.get().value().epoch() >= record.epoch();
                return ours ? Publication.PUBLISHED : Publication.LOST;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("publishing epoch {} failed ({}); retrying", record.epoch(), e.toString());
                Thread.sleep(100);
            }
        }
    }

    /** Writes node states in the background: the caller's HA loop never waits on it. */
    public void writeNodeStateInBackground(NodeState state) {
        String path = RegistryPaths.node(cluster, state.nodeId());
        byte[] data = RegistryJson.write(state);
        try {
            client.create()
                    .orSetData()
                    .creatingParentContainersIfNeeded()
                    .inBackground((c, event) -> {
                        if (event.getResultCode() != KeeperException.Code.OK.intValue()) {
                            log.debug(
                                    "writing node state {} failed: {}",
                                    path,
                                    KeeperException.Code.get(event.getResultCode()));
                        }
                    })
                    .forPath(path, data);
        } catch (Exception e) {
            log.debug("writing node state {} failed", path, e);
        }
    }

    public List<NodeState> readNodeStates() throws Exception {
        List<NodeState> states = new ArrayList<>();
        List<String> children;
        try {
            children = client.getChildren().forPath(RegistryPaths.nodes(cluster));
        } catch (KeeperException.NoNodeException e) {
            return states;
        }
        for (String child : children.stream().sorted().toList()) {
            try {
                states.add(RegistryJson.read(
                        client.getData().forPath(RegistryPaths.node(cluster, child)), NodeState.class));
            } catch (KeeperException.NoNodeException e) {
                // removed between listing and reading
            }
        }
        return states;
    }

    public boolean isPaused() throws Exception {
        return client.checkExists().forPath(RegistryPaths.paused(cluster)) != null;
    }

    public void appendHistory(HistoryEntry entry) throws Exception {
        client.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                .forPath(RegistryPaths.history(cluster) + "/op-", RegistryJson.write(entry));
    }

    public List<HistoryEntry> readHistory() throws Exception {
        List<String> children;
        try {
            children = client.getChildren().forPath(RegistryPaths.history(cluster));
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
        List<HistoryEntry> entries = new ArrayList<>();
        for (String child : children.stream().sorted().toList()) {
            entries.add(RegistryJson.read(
                    client.getData().forPath(RegistryPaths.history(cluster) + "/" + child), HistoryEntry.class));
        }
        return entries;
    }

    public void writeOperation(OperationRecord operation) throws Exception {
        client.create()
                .orSetData()
                .creatingParentContainersIfNeeded()
                .forPath(RegistryPaths.operation(cluster), RegistryJson.write(operation));
    }

    public void clearOperation() throws Exception {
        try {
            client.delete().forPath(RegistryPaths.operation(cluster));
        } catch (KeeperException.NoNodeException e) {
            // already gone
        }
    }

    // ---------------------------------------------------------------- requests (CLI -> leader)

    /** A request node: its full path, its content and the version it was read at. */
    public record Request(String path, OperationReport report, int version) {}

    /** Requests older than this are not carried out: the operator who asked has stopped waiting. */
    private static final java.time.Duration REQUEST_EXPIRY = java.time.Duration.ofMinutes(2);

    /** Creates a request; returns its path. */
    public String createRequest(OperationReport report) throws Exception {
        return client.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                .forPath(RegistryPaths.requests(cluster) + "/req-", RegistryJson.write(report));
    }

    /** The oldest pending request; stale ones are marked expired on the way. */
    public Optional<Request> nextPendingRequest() throws Exception {
        List<String> children;
        try {
            children = client.getChildren().forPath(RegistryPaths.requests(cluster));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        for (String child : children.stream().sorted().toList()) {
            Optional<Request> request = readRequest(RegistryPaths.requests(cluster) + "/" + child);
            if (request.isEmpty() || !request.get().report().state().equals(OperationReport.PENDING)) {
                continue;
            }
            OperationReport report = request.get().report();
            if (report.requestedAt().plus(REQUEST_EXPIRY).isBefore(java.time.Instant.now())) {
                claim(
                        request.get(),
                        report.with(
                                "expired",
                                "not carried out: requested at " + report.requestedAt() + ", more than "
                                        + REQUEST_EXPIRY.toSeconds() + " s ago",
                                report.steps()));
                continue;
            }
            return request;
        }
        return Optional.empty();
    }

    public Optional<Request> readRequest(String path) throws Exception {
        Stat stat = new Stat();
        try {
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            return Optional.of(new Request(path, RegistryJson.read(data, OperationReport.class), stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    /**
     * Takes a request for this orchestrator: a versioned write, so that a request the CLI withdrew or another
     * orchestrator took meanwhile is not carried out. True when the request is ours.
     */
    public boolean claim(Request request, OperationReport report) throws Exception {
        try {
            client.setData().withVersion(request.version()).forPath(request.path(), RegistryJson.write(report));
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return false;
        }
    }

    /** Rewrites a request with the leader's progress; a request the CLI deleted meanwhile is ignored. */
    public void updateRequest(String path, OperationReport report) {
        try {
            client.setData().forPath(path, RegistryJson.write(report));
        } catch (KeeperException.NoNodeException e) {
            log.debug("request {} was withdrawn", path);
        } catch (Exception e) {
            log.warn("could not report progress to {}: {}", path, e.toString());
        }
    }

    public void deleteRequest(String path) throws Exception {
        try {
            client.delete().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            // already gone
        }
    }

    // ---------------------------------------------------------------- hold, pause

    /** Asks wrappers to hold new borrows; ephemeral, so it goes away with this orchestrator's session. */
    public void createHold(HoldRecord hold) throws Exception {
        client.create()
                .orSetData()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(RegistryPaths.hold(cluster), RegistryJson.write(hold));
    }

    public void deleteHold() throws Exception {
        try {
            client.delete().forPath(RegistryPaths.hold(cluster));
        } catch (KeeperException.NoNodeException e) {
            // already gone
        }
    }

    /** Returns false when the cluster was paused already. */
    public boolean pause(String reason) throws Exception {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .forPath(RegistryPaths.paused(cluster), reason.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return true;
        } catch (KeeperException.NodeExistsException e) {
            return false;
        }
    }

    /** Returns false when the cluster was not paused. */
    public boolean resume() throws Exception {
        try {
            client.delete().forPath(RegistryPaths.paused(cluster));
            return true;
        } catch (KeeperException.NoNodeException e) {
            return false;
        }
    }

    public Optional<OperationRecord> readOperation() throws Exception {
        try {
            return Optional.of(RegistryJson.read(
                    client.getData().forPath(RegistryPaths.operation(cluster)), OperationRecord.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }
}
