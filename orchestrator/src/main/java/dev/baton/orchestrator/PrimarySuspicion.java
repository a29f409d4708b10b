package dev.baton.orchestrator;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.UnconfirmedHold;
import dev.baton.orchestrator.shell.ShellCommand;
import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One leadership term's handling of a primary that looks dead but is not proven dead. A refused connection is no
 * proof (a firewall that rejects looks exactly like a crash), and neither is silence: clients cut off together with
 * that primary may still commit there. Before it is replaced, one of these must hold:
 *
 * <ul>
 *   <li>every wrapper registered in ZooKeeper acknowledged the hold (it aborted what it had lent to that primary and
 *       lends nothing more there): the fast path of a real crash, a few milliseconds after the hold;
 *   <li>the wrappers that did not acknowledge have been waited out: the longest of their leases and {@code
 *       clientLeaseTimeout}, counted on the monotonic clock from the hold;
 *   <li>the fence command (STONITH) succeeded.
 * </ul>
 *
 * <p>Created when leadership starts and dropped when it ends, so nothing of a previous term (a hold time, a fence run)
 * carries into the next. A hold left by an earlier leader is adopted and its wait starts again from the adoption.
 * Every write of the hold node is made under the cluster lock and checks its node in the same transaction (DESIGN rule
 * 1): an orchestrator that lost its session cannot delete or re-create a hold its successor adopted. Used only on the
 * supervisor's loop thread.
 */
final class PrimarySuspicion {
    private static final Logger log = LoggerFactory.getLogger(PrimarySuspicion.class);

    /** Watch events reach every connected wrapper within this: the hold's margin over the lease. */
    static final Duration LEASE_MARGIN = Duration.ofMillis(200);

    /** How long a hold write waits for the cluster lock; it is tried again the next round. */
    private static final long LOCK_WAIT_MS = 100;

    private final ClusterConfig cluster;
    private final UnconfirmedHold holds;
    private final ClusterLock lock;
    private final java.util.function.BooleanSupplier mayAct;
    /** The ZooKeeper session the term runs on, and how to read the current one: a new session ends the term. */
    private final LongSupplier session;

    private final long termSession;
    private final ExecutorService background;
    private final EventSink events;
    private final Clock clock;
    private final LongSupplier nanos;

    /** The hold in force and when (monotonic) this term wrote or adopted it; null when there is none. */
    private String holdId;

    private long heldAtNanos;
    private long holdEpoch;
    private String holdNode;
    private Future<ShellCommand.Result> fenceRun;
    private boolean fencedByCommand;
    /** The hold in force is marked for fencing: the primary's agent, if it has one, kills its server. */
    private boolean holdMarkedForFence;
    /** The acknowledgement state last logged, so that each change is said once. */
    private String saidAcks;
    /** A hold to delete whose release failed (no lock, ZooKeeper away): tried again; null when none. */
    private String unreleased;

    PrimarySuspicion(
            ClusterConfig cluster,
            UnconfirmedHold holds,
            ClusterLock lock,
            java.util.function.BooleanSupplier mayAct,
            LongSupplier session,
            ExecutorService background,
            EventSink events,
            Clock clock,
            LongSupplier nanos) {
        this.cluster = cluster;
        this.holds = holds;
        this.lock = lock;
        this.mayAct = mayAct;
        this.session = session;
        this.termSession = session.getAsLong();
        this.background = background;
        this.events = events;
        this.clock = clock;
        this.nanos = nanos;
    }

    /**
     * At the start of a leadership term: a hold of kind unconfirmed-primary for {@code record}'s epoch is continued
     * (its acknowledgements still count, its lease wait starts again now); one for an older epoch is released.
     */
    void adopt(PrimaryRecord record) throws Exception {
        holds.ensureClientsNode();
        HoldRecord hold = holds.read().orElse(null);
        if (hold == null || !HoldRecord.UNCONFIRMED_PRIMARY.equals(hold.kind())) {
            return;
        }
        if (record == null) {
            // The record could not be read: keep the hold for now; a later round holds anew or releases it.
            unreleased = hold.operationId();
            return;
        }
        if (hold.epoch() == record.epoch() && hold.fromNode().equals(record.nodeId())) {
            holdId = hold.operationId();
            heldAtNanos = nanos.getAsLong();
            holdEpoch = hold.epoch();
            holdNode = hold.fromNode();
            log.info(
                    "[{}] continuing the hold on {} left by the previous leader; its lease wait starts again",
                    cluster.name(),
                    hold.fromNode());
        } else if (!underLock(guard -> holds.release(null, guard))) {
            unreleased = hold.operationId();
        }
    }

    /**
     * Leading, connected, and on the session this term started with. A leader whose session expired and which got a
     * new one can take the lock again on the new session; the lock check alone would let its late write through.
     */
    private boolean mayAct() {
        return mayAct.getAsBoolean() && session.getAsLong() == termSession;
    }

    /** A write of the hold node, given the cluster lock node to check. */
    private interface GuardedWrite {
        void write(String guard) throws Exception;
    }

    /**
     * Runs {@code write} holding the cluster lock, while this instance may act (leading, connected); false when it
     * may not, or the lock was not had within {@link #LOCK_WAIT_MS} (another instance acts).
     */
    private boolean underLock(GuardedWrite write) throws Exception {
        // Not leading, not connected (acquiring would block in Curator's retries), or a new session: nothing written.
        if (!mayAct()) {
            return false;
        }
        if (!lock.acquire(LOCK_WAIT_MS, TimeUnit.MILLISECONDS)) {
            log.info("[{}] the cluster lock is held elsewhere: the hold node is written later", cluster.name());
            return false;
        }
        try {
            if (!mayAct()) {
                return false; // leadership or the term's session went while the lock was being taken
            }
            write.write(lock.heldPath());
            return true;
        } finally {
            try {
                lock.release();
            } catch (Exception e) {
                log.warn("[{}] releasing the cluster lock failed: {}", cluster.name(), e.toString());
            }
        }
    }

    /**
     * True while the hold in force is for {@code record}'s primary and epoch. A hold for another one (a failover
     * published since, and the release failed) is forgotten here: its acknowledgements and its wait say nothing
     * about this primary.
     */
    private boolean holdsFor(PrimaryRecord record) {
        if (holdId == null) {
            return false;
        }
        if (holdEpoch == record.epoch() && record.nodeId().equals(holdNode)) {
            return true;
        }
        log.info(
                "[{}] the hold on {} (epoch {}) is not for the primary {} of epoch {}: held again",
                cluster.name(),
                holdNode,
                holdEpoch,
                record.nodeId(),
                record.epoch());
        holdId = null;
        fenceRun = null;
        fencedByCommand = false;
        holdMarkedForFence = false;
        return false;
    }

    /** True while a hold is in force for {@code record}'s primary. */
    boolean holding(PrimaryRecord record) {
        return holdsFor(record);
    }

    /** Tells the wrappers to stop using {@code record}'s primary, once per suspicion; their lease starts running. */
    void hold(PrimaryRecord record, String why) throws Exception {
        if (holdsFor(record)) {
            return;
        }
        String id = "unconfirmed-" + record.epoch() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        HoldRecord hold = new HoldRecord(
                id, record.nodeId(), null, record.epoch(), clock.instant(), HoldRecord.UNCONFIRMED_PRIMARY);
        if (!underLock(guard -> holds.create(hold, guard))) {
            return; // not held yet: the next round tries again, and nothing is replaced meanwhile
        }
        unreleased = null; // the new hold replaced the node, and its release removes the old acknowledgements
        holdMarkedForFence = false;
        holdId = id;
        heldAtNanos = nanos.getAsLong();
        holdEpoch = record.epoch();
        holdNode = record.nodeId();
        saidAcks = null;
        events.emit(
                ClusterEvent.Kind.PRIMARY_DEAD,
                record.nodeId(),
                "primary " + record.nodeId() + " " + why + ": wrappers told to stop using it; it is replaced once"
                        + " every wrapper acknowledged, or their lease (at least "
                        + cluster.clientLeaseTimeout().toMillis() + " ms) has run out");
    }

    /**
     * The failover is due: holds the wrappers if that was not done yet, and runs the fence command once (in the
     * background) where one is configured.
     */
    void secure(PrimaryRecord record) throws Exception {
        holdsFor(record); // a fence run or hold for another primary does not count for this one
        NodeConfig node = cluster.node(record.nodeId()).orElseThrow();
        if (cluster.fenceCommand() != null && !fencedByCommand) {
            if (fenceRun == null) {
                String command = ShellCommand.render(
                        cluster.fenceCommand(),
                        Map.of("node", node.id(), "host", node.host(), "port", Integer.toString(node.port())));
                fenceRun = background.submit(() -> ShellCommand.run(
                        command,
                        Map.of("BATON_CLUSTER", cluster.name(), "BATON_NODE", node.id()),
                        cluster.fenceCommandTimeout(),
                        "baton-fence-" + node.id()));
                events.emit(
                        ClusterEvent.Kind.FENCED,
                        node.id(),
                        "primary " + node.id() + " is not proven gone: running the fence command");
            } else if (fenceRun.isDone() && !fenceRun.isCancelled()) {
                ShellCommand.Result result = fenceRun.get();
                if (result.succeeded()) {
                    fencedByCommand = true;
                    events.emit(
                            ClusterEvent.Kind.FENCED,
                            node.id(),
                            "fence command for " + node.id() + ": " + result.describe()
                                    + "; it can take no writes: failing over without the lease wait");
                    return;
                }
                events.emit(
                        ClusterEvent.Kind.FENCED,
                        node.id(),
                        "fence command for " + node.id() + " failed: " + result.describe()
                                + "; waiting for the wrappers instead");
                fenceRun = CompletableFuture.completedFuture(result); // not run again for this suspicion
            }
        }
        if (!cluster.clientLeaseTimeout().isZero()) {
            hold(record, "is not proven gone");
            if (holdsFor(record) && !holdMarkedForFence) {
                String id = holdId;
                boolean[] marked = {false};
                underLock(guard -> marked[0] = holds.markForFence(id, guard));
                holdMarkedForFence = marked[0]; // not marked: tried again next round (or the hold is written anew)
                if (holdMarkedForFence) {
                    events.emit(
                            ClusterEvent.Kind.FENCED,
                            record.nodeId(),
                            "primary " + record.nodeId() + " is to be replaced: the hold now asks its agent (if it"
                                    + " has one) to fence it");
                }
            }
        }
    }

    /**
     * True once the held primary may be replaced: the fence command succeeded, every registered wrapper
     * acknowledged the hold, or those that did not have been waited out. Reads the acknowledgements.
     */
    boolean cleared(PrimaryRecord record) throws Exception {
        if (cluster.clientLeaseTimeout().isZero()) {
            return true;
        }
        if (!holdsFor(record) && !fencedByCommand) {
            return false;
        }
        if (fencedByCommand) {
            return true;
        }
        String current = holdId;
        if (!holds.read().map(h -> current.equals(h.operationId())).orElse(false)) {
            // Deleted or replaced behind this term's back (by hand, or by an instance that acted late): the wrappers
            // may not be held, so nothing counts; the next round holds them again and the wait starts anew.
            log.warn(
                    "[{}] the hold {} is not in ZooKeeper any more: holding the wrappers again",
                    cluster.name(),
                    current);
            holdId = null;
            return false;
        }
        UnconfirmedHold.Acks acks = holds.acks(holdId);
        List<ClientRegistration> missing = acks.missing();
        int registered = acks.registered();
        long waitedMs = (nanos.getAsLong() - heldAtNanos) / 1_000_000;
        if (missing.isEmpty()) {
            say(
                    "all",
                    "all " + registered + " registered wrapper(s) acknowledged the hold within " + waitedMs
                            + " ms: none can commit on the old primary");
            return true;
        }
        Duration lease = cluster.clientLeaseTimeout();
        for (ClientRegistration c : missing) {
            if (c.leaseTimeoutMs() > lease.toMillis()) {
                lease = Duration.ofMillis(c.leaseTimeoutMs());
            }
        }
        long needMs = lease.plus(LEASE_MARGIN).toMillis();
        say(
                missing.size() + "/" + registered,
                missing.size() + " of " + registered
                        + " registered wrapper(s) did not acknowledge the hold ("
                        + String.join(
                                ", ",
                                missing.stream()
                                        .map(ClientRegistration::id)
                                        .limit(5)
                                        .toList())
                        + (missing.size() > 5 ? ", ..." : "") + "): waiting out their lease, " + needMs
                        + " ms from the hold");
        return waitedMs >= needMs;
    }

    /** Reports the acknowledgement state when it changes ({@code key}), not every round. */
    private void say(String key, String message) {
        if (!key.equals(saidAcks)) {
            events.emit(ClusterEvent.Kind.HOLD_ACKNOWLEDGED, holdNode, message);
            saidAcks = key;
        }
    }

    /** The epoch the hold in force applies to, or -1. */
    long holdEpoch() {
        return holdId == null ? -1 : holdEpoch;
    }

    /**
     * The primary answers again, or was replaced: deletes the hold (wrappers use the published primary again) and
     * stops a fence command still running, so that no STONITH hits a primary that is healthy again.
     */
    void release() {
        if (fenceRun != null && !fenceRun.isDone()) {
            fenceRun.cancel(true);
            log.info("[{}] the primary answers again: the fence command was stopped", cluster.name());
        }
        fenceRun = null;
        fencedByCommand = false;
        holdMarkedForFence = false;
        String releasing = holdId != null ? holdId : unreleased;
        if (releasing == null) {
            return;
        }
        holdId = null; // forgotten even when the delete fails: a later suspicion writes a hold of its own
        unreleased = releasing; // until the delete succeeds: the wrappers stay held, so it is retried every round
        try {
            if (underLock(guard -> holds.release(releasing, guard))) {
                unreleased = null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing: the next leader settles the hold
        } catch (Exception e) {
            log.warn("[{}] could not delete the hold node; tried again next round: {}", cluster.name(), e.toString());
        }
    }

    /** Leadership ended: stop what this term started; the hold stays for the next leader to settle. */
    void end() {
        if (fenceRun != null && !fenceRun.isDone()) {
            fenceRun.cancel(true);
        }
    }
}
