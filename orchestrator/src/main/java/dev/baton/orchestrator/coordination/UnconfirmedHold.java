package dev.baton.orchestrator.coordination;

import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry side of a hold of kind {@link HoldRecord#UNCONFIRMED_PRIMARY}: the hold node, which tells every wrapper
 * to stop using the primary it names, and the acknowledgements the wrappers write once they have. A wrapper registers
 * itself under {@link RegistryPaths#clients(String)} (an ephemeral node of its session) and acknowledges a hold with an
 * ephemeral child of {@link RegistryPaths#acks(String, String)}. When every registered wrapper acknowledged, none of
 * them can commit on the held primary any more, and the orchestrator need not wait out their lease.
 *
 * <p>The hold is persistent: it outlives this orchestrator's session, so that wrappers keep away from a primary that
 * was never proven gone until the next leader has settled it (it never expires in the wrapper). Whoever ends the
 * suspicion deletes it: the primary answered again, or a newer primary was published.
 */
public final class UnconfirmedHold {
    private static final Logger log = LoggerFactory.getLogger(UnconfirmedHold.class);

    private final CuratorFramework client;
    private final String cluster;

    public UnconfirmedHold(CuratorFramework client, String cluster) {
        this.client = client;
        this.cluster = cluster;
    }

    /**
     * What the registry says about one hold: how many wrappers are registered, and those of them that have not
     * acknowledged it (their registrations, with their leases).
     */
    public record Acks(int registered, List<ClientRegistration> missing) {}

    /**
     * Creates the parent of the wrappers' registrations if it is missing, with CREATE for everyone: wrappers hold no
     * ZooKeeper credentials.
     */
    public void ensureClientsNode() throws Exception {
        String path = RegistryPaths.clients(cluster);
        if (client.checkExists().forPath(path) != null) {
            return;
        }
        try {
            create(path, RegistryClient.CREATE_BY_ALL_WRITE_BY_CREATOR);
        } catch (KeeperException.InvalidACLException e) {
            create(path, ZooDefs.Ids.OPEN_ACL_UNSAFE); // this orchestrator has no credentials
        }
    }

    private void create(String path, List<ACL> acl) throws Exception {
        try {
            client.create().creatingParentContainersIfNeeded().withACL(acl).forPath(path);
        } catch (KeeperException.NodeExistsException e) {
            // a wrapper or another orchestrator made it
        }
    }

    /**
     * Writes {@code hold} (persistent) and the empty parent of its acknowledgements in one transaction that also checks
     * {@code guard}, the cluster lock node this orchestrator holds (DESIGN rule 1), replacing a hold left behind.
     *
     * @throws LostLockException when {@code guard} is null or gone: nothing was written
     */
    public void create(HoldRecord hold, String guard) throws Exception {
        ensureClientsNode();
        String acks = RegistryPaths.acks(cluster);
        if (client.checkExists().forPath(acks) == null) {
            try {
                client.create().creatingParentContainersIfNeeded().forPath(acks);
            } catch (KeeperException.NodeExistsException e) {
                // made meanwhile
            }
        }

        try {
            create(hold, guard, RegistryClient.CREATE_BY_ALL_WRITE_BY_CREATOR);
        } catch (KeeperException.InvalidACLException e) {
            create(hold, guard, ZooDefs.Ids.OPEN_ACL_UNSAFE); // this orchestrator has no credentials
        }
    }

    private void create(HoldRecord hold, String guard, List<ACL> ackAcl) throws Exception {
        String holdPath = RegistryPaths.hold(cluster);
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(client.transactionOp().check().forPath(requireGuard(guard)));
        ops.add(client.transactionOp()
                .create()
                .withACL(ackAcl)
                .forPath(RegistryPaths.acks(cluster, hold.operationId())));
        byte[] data = RegistryJson.write(hold);
        ops.add(
                client.checkExists().forPath(holdPath) == null
                        ? client.transactionOp()
                                .create()
                                .withMode(CreateMode.PERSISTENT)
                                .forPath(holdPath, data)
                        : client.transactionOp().setData().forPath(holdPath, data));
        commit(ops, guard);
    }

    /**
     * Marks hold {@code holdId} for fencing ({@link HoldRecord#forFence()}), in a transaction that checks {@code guard}
     * and the version read, so that a hold replaced meanwhile is not marked; false when the hold in force is another.
     */
    public boolean markForFence(String holdId, String guard) throws Exception {
        String holdPath = RegistryPaths.hold(cluster);
        org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
        HoldRecord current;
        try {
            current = RegistryJson.read(client.getData().storingStatIn(stat).forPath(holdPath), HoldRecord.class);
        } catch (KeeperException.NoNodeException e) {
            return false;
        }
        if (!holdId.equals(current.operationId())) {
            return false;
        }
        if (current.fence()) {
            return true;
        }
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(client.transactionOp().check().forPath(requireGuard(guard)));
        ops.add(client.transactionOp()
                .setData()
                .withVersion(stat.getVersion())
                .forPath(holdPath, RegistryJson.write(current.forFence())));
        commit(ops, guard);
        return true;
    }

    private String requireGuard(String guard) throws LostLockException {
        if (guard == null) {
            throw new LostLockException("this orchestrator does not hold the lock of cluster " + cluster);
        }
        return guard;
    }

    /** Runs {@code ops}, whose first is the check of {@code guard}; a failure of that check is a lost lock. */
    private void commit(List<CuratorOp> ops, String guard) throws Exception {
        try {
            client.transaction().forOperations(ops);
        } catch (KeeperException e) {
            if (ClusterRegistry.failedOperation(e) == 0) {
                throw new LostLockException("the lock of cluster " + cluster + " held at " + guard
                        + " is gone (ZooKeeper session expired?): the hold node is left as it is");
            }
            throw e;
        }
    }

    /** The hold node, if there is one that Baton can read. */
    public Optional<HoldRecord> read() throws Exception {
        try {
            return Optional.of(
                    RegistryJson.read(client.getData().forPath(RegistryPaths.hold(cluster)), HoldRecord.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            log.warn(
                    "[{}] {} is not a hold record Baton can read: {}",
                    cluster,
                    RegistryPaths.hold(cluster),
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The registered wrappers and the acknowledgements of hold {@code holdId}. The registrations are read after the
     * hold was written (same session), so every wrapper that registered before the hold is among them; one that
     * registered after it read the hold before it could lend a connection.
     */
    public Acks acks(String holdId) throws Exception {
        Set<String> acknowledged;
        try {
            acknowledged = new HashSet<>(client.getChildren().forPath(RegistryPaths.acks(cluster, holdId)));
        } catch (KeeperException.NoNodeException e) {
            acknowledged = Set.of();
        }
        List<String> ids;
        try {
            ids = client.getChildren().forPath(RegistryPaths.clients(cluster));
        } catch (KeeperException.NoNodeException e) {
            ids = List.of();
        }
        // Only the registrations of those that did not acknowledge are read (for their leases): the fast path of a
        // crash, where all did, costs two reads whatever the number of wrappers.
        List<ClientRegistration> missing = new ArrayList<>();
        for (String id : ids) {
            if (!acknowledged.contains(id)) {
                missing.add(registration(id));
            }
        }
        return new Acks(ids.size(), List.copyOf(missing));
    }

    /**
     * A registration as its wrapper wrote it; one that cannot be read (gone meanwhile, or not Baton's) counts as a
     * wrapper with the orchestrator's lease, so that it is still waited for.
     */
    private ClientRegistration registration(String id) throws Exception {
        try {
            return RegistryJson.read(
                    client.getData().forPath(RegistryPaths.client(cluster, id)), ClientRegistration.class);
        } catch (KeeperException.NoNodeException | IllegalArgumentException e) {
            return new ClientRegistration(id, null, -1, true, -1, null);
        }
    }

    /**
     * Deletes the hold if it is {@code holdId}'s (or every hold of kind unconfirmed-primary when null), in a
     * transaction that checks {@code guard} as {@link #create} does, then the acknowledgements of every unconfirmed
     * hold no longer in force: wrappers may use the published primary again.
     *
     * @throws LostLockException when {@code guard} is null or gone: the hold is left as it is
     */
    public void release(String holdId, String guard) throws Exception {
        // The lock is checked first, so that nothing below (the acknowledgements too) is deleted without it.
        commit(List.of(client.transactionOp().check().forPath(requireGuard(guard))), guard);
        String holdPath = RegistryPaths.hold(cluster);
        org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
        HoldRecord hold = null;
        try {
            hold = RegistryJson.read(client.getData().storingStatIn(stat).forPath(holdPath), HoldRecord.class);
        } catch (KeeperException.NoNodeException | IllegalArgumentException e) {
            // none, or not one Baton can read: nothing of ours to delete
        }
        if (hold != null
                && HoldRecord.UNCONFIRMED_PRIMARY.equals(hold.kind())
                && (holdId == null || holdId.equals(hold.operationId()))) {
            try {
                // the version: a hold written since it was read (a newer suspicion) is not deleted
                commit(
                        List.of(
                                client.transactionOp().check().forPath(guard),
                                client.transactionOp()
                                        .delete()
                                        .withVersion(stat.getVersion())
                                        .forPath(holdPath)),
                        guard);
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
                // gone already, or replaced by a newer hold
            }
        }
        String inForce = read().map(HoldRecord::operationId).orElse(null);
        List<String> parents;
        try {
            parents = client.getChildren().forPath(RegistryPaths.acks(cluster));
        } catch (KeeperException.NoNodeException e) {
            return;
        }
        for (String parent : parents) {
            if (parent.equals(inForce)) {
                continue; // another hold's, still in force
            }
            try {
                client.delete().deletingChildrenIfNeeded().forPath(RegistryPaths.acks(cluster, parent));
            } catch (KeeperException.NoNodeException e) {
                // gone already
            } catch (KeeperException e) {
                log.debug("[{}] deleting the acknowledgements of {} failed: {}", cluster, parent, e.toString());
            }
        }
    }
}
