package dev.baton.orchestrator.coordination;

import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeState;
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
            client.setData()
                    .withVersion(expectedVersion)
                    .forPath(RegistryPaths.primary(cluster), RegistryJson.write(record));
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            throw new StaleWriteException("the primary record of cluster " + cluster + " changed since version "
                    + expectedVersion + " was read; epoch " + record.epoch() + " not published");
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

    public void writeOperation(Object operation) throws Exception {
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
}
