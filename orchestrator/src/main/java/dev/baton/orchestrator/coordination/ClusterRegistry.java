package dev.baton.orchestrator.coordination;

import dev.baton.registry.EpochNode;
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
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes one cluster's part of the ZooKeeper contract. The primary record is only ever written with a
 * version check, so that of two writers who read the same record, exactly one wins.
 */
public final class ClusterRegistry {
    private static final Logger log = LoggerFactory.getLogger(ClusterRegistry.class);

    /** The epoch nodes' content: the name is the record (Curator would otherwise store this host's address). */
    private static final byte[] NO_DATA = new byte[0];

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

    /**
     * The published primary record and its version.
     *
     * @throws InvalidRecordException when the node holds something that is not a primary record of this cluster
     */
    public Optional<Versioned<PrimaryRecord>> readPrimary() throws Exception {
        Stat stat = new Stat();
        String path = RegistryPaths.primary(cluster);
        byte[] data;
        try {
            data = client.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        PrimaryRecord record;
        try {
            record = RegistryJson.read(data, PrimaryRecord.class);
        } catch (IllegalArgumentException e) {
            throw new InvalidRecordException(path + " is " + e.getMessage());
        }
        if (!record.cluster().equals(cluster)) {
            throw new InvalidRecordException(path + " names cluster '"
                    + RegistryJson.quote(record.cluster().getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "', not "
                    + cluster);
        }
        return Optional.of(new Versioned<>(record, stat.getVersion()));
    }

    /**
     * Publishes the first primary of a cluster, with its {@link EpochNode} in the same transaction; fails if any
     * record exists already.
     */
    public void publishFirst(PrimaryRecord record) throws Exception {
        ensureEpochsNode();
        try {
            client.transaction()
                    .forOperations(
                            client.transactionOp().create().forPath(RegistryPaths.epoch(cluster, record), NO_DATA),
                            client.transactionOp()
                                    .create()
                                    .forPath(RegistryPaths.primary(cluster), RegistryJson.write(record)));
        } catch (KeeperException.NodeExistsException e) {
            throw new StaleWriteException("a primary record for cluster " + cluster + " exists already");
        }
    }

    /** The epochs node exists (as far as this registry knows): a publication need not look first. */
    private volatile boolean epochsNodeSeen;

    /**
     * Creates {@link RegistryPaths#epochs(String)} unless this registry saw it already. A persistent node, not a
     * container: it must outlive a moment without children.
     */
    private void ensureEpochsNode() throws Exception {
        if (epochsNodeSeen) {
            return;
        }
        try {
            client.create().creatingParentContainersIfNeeded().forPath(RegistryPaths.epochs(cluster), NO_DATA);
        } catch (KeeperException.NodeExistsException e) {
            // there already
        }
        epochsNodeSeen = true;
    }

    /**
     * Replaces the record read at {@code expectedVersion} and deletes the operation record, in one ZooKeeper
     * transaction that also checks {@code guard}, the cluster-lock node this orchestrator holds.
     *
     * @throws StaleWriteException when anyone wrote the record since
     * @throws LostLockException when the lock node is gone (the session that held it expired): nothing was written
     */
    public void publish(PrimaryRecord record, int expectedVersion, String guard) throws Exception {
        ensureEpochsNode();
        // The operation record is there whenever an engine publishes, so it is not looked up first (one round trip
        // less on a failover's critical path); when it is not, the transaction fails at its delete and runs without.
        if (!publish(record, expectedVersion, guard, true)) {
            publish(record, expectedVersion, guard, false);
        }
    }

    /** One transaction; false (nothing written) when {@code deleteOperation} finds no operation record. */
    private boolean publish(PrimaryRecord record, int expectedVersion, String guard, boolean deleteOperation)
            throws Exception {
        // Operation 0 is the guard's check. The epoch node comes first: a client gets its creation event, carrying
        // the record, just before the record's change event of the same transaction (same zxid), and need not read it.
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(client.transactionOp().create().forPath(RegistryPaths.epoch(cluster, record), NO_DATA));
        ops.add(client.transactionOp()
                .setData()
                .withVersion(expectedVersion)
                .forPath(RegistryPaths.primary(cluster), RegistryJson.write(record)));
        if (deleteOperation) {
            ops.add(client.transactionOp().delete().forPath(RegistryPaths.operation(cluster)));
        }
        try {
            guarded(guard, ops);
            return true;
        } catch (KeeperException.NoNodeException e) {
            int failed = failedOperation(e);
            if (failed == 1) {
                epochsNodeSeen = false; // somebody deleted it: the next attempt creates it again
                throw new IllegalStateException(
                        RegistryPaths.epochs(cluster) + " is gone; epoch " + record.epoch() + " not published", e);
            }
            if (failed == 3) {
                return false;
            }
            throw stale(record, expectedVersion);
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            // NodeExists: this record's epoch node, from an earlier attempt whose answer was lost, or a publication
            // of the same record by someone else: either way the primary record changed since it was read
            throw stale(record, expectedVersion);
        }
    }

    private StaleWriteException stale(PrimaryRecord record, int expectedVersion) {
        return new StaleWriteException("the primary record of cluster " + cluster + " changed since version "
                + expectedVersion + " was read; epoch " + record.epoch() + " not published");
    }

    /** The index of the operation that failed a transaction, or -1 when ZooKeeper did not say. */
    static int failedOperation(KeeperException e) {
        List<OpResult> results = e.getResults();
        if (results == null) {
            return -1;
        }
        for (int i = 0; i < results.size(); i++) {
            if (results.get(i) instanceof OpResult.ErrorResult error
                    && error.getErr() != KeeperException.Code.OK.intValue()
                    && error.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                return i;
            }
        }
        return -1;
    }

    /** How many epoch nodes a prune keeps: the newest, for the operator and for tools that read them. */
    static final int EPOCH_NODES_KEPT = 8;

    /**
     * Deletes all but the newest {@value #EPOCH_NODES_KEPT} epoch nodes. Each deletion is an event for every client
     * that watches them, so this runs when an operation is over ({@link #appendHistory}), not with the publication.
     * Best effort: a node another orchestrator deleted first, or an error, is left for the next prune.
     */
    /** The highest epoch among the epoch nodes (they outlive a record deleted by hand), 0 when there is none. */
    public long newestPublishedEpoch() throws Exception {
        try {
            return client.getChildren().forPath(RegistryPaths.epochs(cluster)).stream()
                    .mapToLong(EpochNode::epoch)
                    .max()
                    .orElse(0);
        } catch (KeeperException.NoNodeException e) {
            return 0;
        }
    }

    public void pruneEpochNodes() {
        String parent = RegistryPaths.epochs(cluster);
        try {
            List<String> epochs = client.getChildren().forPath(parent).stream()
                    .filter(name -> EpochNode.epoch(name) >= 0)
                    .sorted()
                    .toList();
            for (String name : epochs.subList(0, Math.max(0, epochs.size() - EPOCH_NODES_KEPT))) {
                client.delete().inBackground().forPath(parent + "/" + name);
            }
        } catch (KeeperException.NoNodeException e) {
            // nothing published since this version of Baton
        } catch (Exception e) {
            log.debug("pruning {} failed: {}", parent, e.toString());
        }
    }

    /**
     * Runs {@code ops} in one transaction that first checks {@code guard} exists.
     *
     * @throws LostLockException when {@code guard} is null or gone
     * @throws KeeperException the failure of the first other operation that failed
     */
    private void guarded(String guard, List<CuratorOp> ops) throws Exception {
        if (guard == null) {
            throw new LostLockException("this orchestrator does not hold the lock of cluster " + cluster);
        }
        List<CuratorOp> all = new ArrayList<>();
        all.add(client.transactionOp().check().forPath(guard));
        all.addAll(ops);
        try {
            client.transaction().forOperations(all);
        } catch (KeeperException e) {
            if (failedOperation(e) == 0) { // the guard's check
                throw new LostLockException("the lock of cluster " + cluster + " held at " + guard
                        + " is gone (ZooKeeper session expired?): not acting");
            }
            throw e;
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
     * Publishes {@code record} after its node was promoted (deleting the operation record in the same transaction,
     * under {@code guard}), retrying lost connections for up to {@code patience}. A version conflict is resolved by
     * reading the record again: if it names our node at our epoch or later, our write (or an equivalent one) is in
     * place.
     *
     * @throws LostLockException when this orchestrator no longer holds the cluster lock: it must stop acting; the
     *     operation record stays for the next leader to settle
     * @throws Exception when it could not tell within {@code patience} (ZooKeeper unreachable)
     */
    public Publication publishAfterPromotion(
            PrimaryRecord record, int expectedVersion, String guard, java.time.Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                publish(record, expectedVersion, guard);
                return Publication.PUBLISHED;
            } catch (StaleWriteException e) {
                Optional<Versioned<PrimaryRecord>> now = readPrimary();
                boolean ours = now.isPresent()
                        && now.get().value().nodeId().equals(record.nodeId())
                        && now.get().value().epoch() >= record.epoch();
                return ours ? Publication.PUBLISHED : Publication.LOST;
            } catch (LostLockException e) {
                throw e;
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
            } catch (IllegalArgumentException e) {
                skipped(RegistryPaths.nodes(cluster) + "/" + child, "node state");
            }
        }
        return states;
    }

    public boolean isPaused() throws Exception {
        return client.checkExists().forPath(RegistryPaths.paused(cluster)) != null;
    }

    /** Records a finished operation; the operation being over, old epoch nodes are pruned too. */
    public void appendHistory(HistoryEntry entry) throws Exception {
        client.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                .forPath(RegistryPaths.history(cluster) + "/op-", RegistryJson.write(entry));
        pruneEpochNodes();
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
            String path = RegistryPaths.history(cluster) + "/" + child;
            try {
                entries.add(RegistryJson.read(client.getData().forPath(path), HistoryEntry.class));
            } catch (KeeperException.NoNodeException e) {
                // removed between listing and reading
            } catch (IllegalArgumentException e) {
                skipped(path, "history entry");
            }
        }
        return entries;
    }

    private final java.util.Set<String> reportedInvalid = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** An entry that is not what Baton wrote is skipped: said once per path, never echoed. */
    private void skipped(String path, String what) {
        if (reportedInvalid.add(path)) {
            log.warn("{} is not a valid {}: skipped (delete it with ZooKeeper's CLI)", path, what);
        }
    }

    /** Writes the operation record under {@code guard}, the cluster-lock node this orchestrator holds. */
    public void writeOperation(OperationRecord operation, String guard) throws Exception {
        String path = RegistryPaths.operation(cluster);
        byte[] data = RegistryJson.write(operation);
        if (client.checkExists().forPath(path) == null) {
            try {
                guarded(guard, List.of(client.transactionOp().create().forPath(path, data)));
                return;
            } catch (KeeperException.NodeExistsException e) {
                // written by our own earlier attempt whose answer was lost: overwrite below
            }
        }
        guarded(guard, List.of(client.transactionOp().setData().forPath(path, data)));
    }

    /** Deletes the operation record under {@code guard}; nothing to do when it is gone already. */
    public void clearOperation(String guard) throws Exception {
        try {
            guarded(guard, List.of(client.transactionOp().delete().forPath(RegistryPaths.operation(cluster))));
        } catch (KeeperException.NoNodeException e) {
            // already gone
        }
    }

    /** Checks that {@code guard} still exists: the last word before an action on a database under the lock. */
    public void checkHeld(String guard) throws Exception {
        guarded(guard, List.of());
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
            String path = RegistryPaths.requests(cluster) + "/" + child;
            Optional<Request> request;
            try {
                request = readRequest(path);
            } catch (IllegalArgumentException e) {
                // not a request the CLI wrote: it would block every switchover behind it
                log.warn("{} is {}: deleted", path, e.getMessage());
                deleteRequest(path);
                continue;
            }
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

    /**
     * Refuses every request still pending, saying why: requests queued while another operation ran are not carried
     * out after it (two operators' switchovers must not run one after the other). Returns how many were refused.
     */
    public int refusePending(String reason) throws Exception {
        int refused = 0;
        Optional<Request> next;
        for (int i = 0; i < 1000 && (next = nextPendingRequest()).isPresent(); i++) {
            Request r = next.get();
            if (claim(r, r.report().with("refused", reason, r.report().steps()))) {
                refused++;
            }
        }
        return refused;
    }

    /** True when a switchover request waits to be carried out. */
    public boolean hasPendingRequest() throws Exception {
        return nextPendingRequest().isPresent();
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
        createHold(hold, false);
    }

    /**
     * Asks wrappers to hold new borrows. {@code persistent}: the node outlives this orchestrator's session (a
     * switchover's hold must last until the next leader has settled what this one left), and is deleted by whoever
     * ends the operation; wrappers wait on it at most their {@code holdTimeout}.
     */
    public void createHold(HoldRecord hold, boolean persistent) throws Exception {
        client.create()
                .orSetData()
                .creatingParentContainersIfNeeded()
                .withMode(persistent ? CreateMode.PERSISTENT : CreateMode.EPHEMERAL)
                .forPath(RegistryPaths.hold(cluster), RegistryJson.write(hold));
    }

    /** The request whose report has {@code id}, or empty (a request the CLI deleted, or never made). */
    public Optional<Request> findRequest(String id) throws Exception {
        List<String> children;
        try {
            children = client.getChildren().forPath(RegistryPaths.requests(cluster));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        for (String child : children) {
            try {
                Optional<Request> r = readRequest(RegistryPaths.requests(cluster) + "/" + child);
                if (r.isPresent() && r.get().report().id().equals(id)) {
                    return r;
                }
            } catch (IllegalArgumentException e) {
                // not Baton's: nextPendingRequest deals with it
            }
        }
        return Optional.empty();
    }

    /**
     * Deletes a switchover's hold. A hold of kind unconfirmed-primary is left alone: it keeps wrappers away from a
     * primary that was never proven gone, and only the supervisor that settles the suspicion ends it
     * ({@link UnconfirmedHold#release}).
     */
    public void deleteHold() throws Exception {
        String path = RegistryPaths.hold(cluster);
        try {
            Stat stat = new Stat();
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            try {
                if (HoldRecord.UNCONFIRMED_PRIMARY.equals(
                        RegistryJson.read(data, HoldRecord.class).kind())) {
                    return;
                }
            } catch (IllegalArgumentException e) {
                // not a hold Baton can read: a switchover's of an older version, or junk; deleted
            }
            client.delete().withVersion(stat.getVersion()).forPath(path);
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
            // already gone, or replaced by a newer hold that its writer deletes
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

    /**
     * The operation record, or empty. One that is not what Baton writes is skipped with one warning: the next
     * operation overwrites it, settling deletes it.
     */
    public Optional<OperationRecord> readOperation() throws Exception {
        try {
            return Optional.of(RegistryJson.read(
                    client.getData().forPath(RegistryPaths.operation(cluster)), OperationRecord.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            skipped(RegistryPaths.operation(cluster), "operation record");
            return Optional.empty();
        }
    }
}
