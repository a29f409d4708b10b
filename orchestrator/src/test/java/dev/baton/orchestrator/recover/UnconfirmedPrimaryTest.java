package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.ClusterSupervisor;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.UnconfirmedHold;
import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.NodeRole;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A primary that is silent rather than gone (its probes time out, its replicas receive nothing) may still commit for
 * clients cut off with it: it is replaced only after the fence command succeeded or the wrappers were told to stop
 * using it and their lease ran out. Hooks around failovers: a veto stops one, a slow one blocks nothing.
 */
class UnconfirmedPrimaryTest {
    private EngineFixture fixture;
    private FakeDialect dialect;
    private ClusterSupervisor supervisor;
    private final List<ClusterEvent> events = new CopyOnWriteArrayList<>();
    private final List<CuratorFramework> wrappers = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        wrappers.forEach(CuratorFramework::close);
        if (supervisor != null) {
            supervisor.close();
        }
        fixture.close();
    }

    private void start(String extra) throws Exception {
        fixture = new EngineFixture(extra);
        dialect = fixture.dialect;
        fixture.healthyCluster();
        supervisor = fixture.supervise(events);
        fixture.awaitNodeStates();
    }

    /** The primary stops answering and its replicas, still connected, stop receiving: a hang or a partition. */
    private void hangPrimary() {
        dialect.hung.add("pg1");
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
    }

    /** The primary's process is gone: refused connections, replicas' receivers down. */
    private void killPrimary() {
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true, "h:1"));
    }

    /**
     * A wrapper as the registry sees it: its registration, an ephemeral node of its own session (a client of its own,
     * closed by the fixture's ZooKeeper at the end), and, when {@code acknowledges}, an acknowledgement of every hold
     * of kind unconfirmed-primary as soon as it appears.
     */
    private CuratorFramework wrapper(String id, long leaseMs, boolean acknowledges) throws Exception {
        CuratorFramework c = RegistryClient.start(
                fixture.zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        wrappers.add(c);
        c.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(
                        RegistryPaths.client("orders", id),
                        RegistryJson.write(new ClientRegistration(id, "app", 1, true, leaseMs, Instant.now())));
        if (acknowledges) {
            CuratorCache hold = CuratorCache.build(c, RegistryPaths.hold("orders"));
            hold.listenable()
                    .addListener(CuratorCacheListener.builder()
                            .forCreatesAndChanges((before, node) -> {
                                HoldRecord h = RegistryJson.read(node.getData(), HoldRecord.class);
                                try {
                                    c.create()
                                            .withMode(CreateMode.EPHEMERAL)
                                            .forPath(RegistryPaths.ack("orders", h.operationId(), id));
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            })
                            .build());
            hold.start();
        }
        return c;
    }

    private String publishedNode() throws Exception {
        return fixture.registry.readPrimary().orElseThrow().value().nodeId();
    }

    @Test
    void aSilentPrimaryIsReplacedOnlyAfterAWrapperThatDidNotAcknowledgeWasWaitedOut() throws Exception {
        start("    clientLeaseTimeout: 3s\n");
        wrapper("acks", 2000, true);
        wrapper("cut-off", 2000, false);
        hangPrimary();
        long heldAt = awaitHold();
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals("pg2"));
        long waitedMs = (System.nanoTime() - heldAt) / 1_000_000;
        assertThat(waitedMs).as("promoted only after the lease since the hold").isGreaterThanOrEqualTo(2900);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
    }

    @Test
    void theLongestLeaseOfAWrapperThatDidNotAcknowledgeIsWaitedOut() throws Exception {
        start("    clientLeaseTimeout: 1s\n");
        wrapper("long-lease", 4000, false);
        killPrimary();
        long heldAt = awaitHold();
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals("pg2"));
        assertThat((System.nanoTime() - heldAt) / 1_000_000)
                .as("the wrapper's own 4 s lease, not clientLeaseTimeout's 1 s")
                .isGreaterThanOrEqualTo(3900);
    }

    @Test
    void aPrimaryThatRefusesConnectionsIsReplacedAtOnceWhenEveryWrapperAcknowledged() throws Exception {
        start("    clientLeaseTimeout: 60s\n");
        wrapper("a", 2000, true);
        wrapper("b", 2000, true);
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
    }

    @Test
    void aPrimaryThatRefusesConnectionsIsNotReplacedWhileAWrapperThatDidNotAcknowledgeMayStillUseIt() throws Exception {
        // A firewall that answers with resets looks exactly like a crash (DESIGN rule 10).
        start("    clientLeaseTimeout: 60s\n");
        wrapper("acks", 2000, true);
        wrapper("cut-off", 2000, false);
        killPrimary();
        awaitHold();
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream()
                .anyMatch(e -> e.kind() == ClusterEvent.Kind.HOLD_ACKNOWLEDGED
                        && e.message().startsWith("1 of 2 registered wrapper(s) did not acknowledge")
                        && e.message().contains("cut-off")));
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
        assertThat(publishedNode()).isEqualTo("pg1");
        // Its acknowledgement arrives: the failover goes ahead at once, 57 s before the lease would run out.
        HoldRecord hold =
                RegistryJson.read(fixture.client.getData().forPath(RegistryPaths.hold("orders")), HoldRecord.class);
        fixture.client
                .create()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(RegistryPaths.ack("orders", hold.operationId(), "cut-off"));
        await().atMost(Duration.ofSeconds(5)).until(() -> publishedNode().equals("pg2"));
        assertThat(events)
                .anyMatch(e -> e.kind() == ClusterEvent.Kind.HOLD_ACKNOWLEDGED
                        && e.message().startsWith("all 2 registered wrapper(s) acknowledged"));
    }

    @Test
    void oneSlowProbeOfAnIdlePrimaryHoldsNothingAndRunsNoFenceCommand(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path stonith = dir.resolve("fenced");
        fixture = new EngineFixture("    clientLeaseTimeout: 3s\n    fenceCommand: \"touch " + stonith + "\"\n");
        dialect = fixture.dialect;
        fixture.healthyCluster();
        // The primary answers again right after its first probe timed out: the listener runs on the supervisor's
        // thread, before the next probe. Rounds are counted from the observations each round reports.
        java.util.concurrent.atomic.AtomicInteger roundsAfter = new java.util.concurrent.atomic.AtomicInteger(-1);
        supervisor = fixture.supervise(
                new ClusterEvent.Listener() {
                    @Override
                    public void on(ClusterEvent e) {
                        if (e.kind() == ClusterEvent.Kind.PRIMARY_SUSPECT && "pg1".equals(e.node())) {
                            dialect.hung.remove("pg1");
                            dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
                            roundsAfter.set(0);
                        }
                        events.add(e);
                    }

                    @Override
                    public void observed(
                            String cluster,
                            List<dev.baton.registry.NodeState> states,
                            java.util.Map<String, Duration> probeTimes) {
                        if (roundsAfter.get() >= 0) {
                            roundsAfter.incrementAndGet();
                        }
                    }
                },
                java.time.Clock.systemUTC());
        fixture.awaitNodeStates();
        wrapper("cut-off", 2000, false);
        hangPrimary();
        // the round of the slow probe, and three more
        await().atMost(Duration.ofSeconds(10)).until(() -> roundsAfter.get() >= 4);
        assertThat(events).noneMatch(e -> e.message().contains("told to stop using it"));
        assertThat(fixture.client.checkExists().forPath(RegistryPaths.hold("orders")))
                .isNull();
        assertThat(stonith).doesNotExist();
        assertThat(publishedNode()).isEqualTo("pg1");
    }

    @Test
    void aClockStepForwardDuringTheHoldDoesNotShortenTheLeaseWait() throws Exception {
        fixture = new EngineFixture("    clientLeaseTimeout: 3s\n");
        dialect = fixture.dialect;
        fixture.healthyCluster();
        dev.baton.sandbox.SteppedClock wall = new dev.baton.sandbox.SteppedClock();
        supervisor = fixture.supervise(events, wall);
        fixture.awaitNodeStates();
        wrapper("cut-off", 2000, false);
        hangPrimary();
        long heldAt = awaitHold();
        wall.step(Duration.ofHours(1)); // NTP steps the wall clock forward while the wrappers' lease runs
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals("pg2"));
        assertThat((System.nanoTime() - heldAt) / 1_000_000)
                .as("the lease wait runs on the monotonic clock")
                .isGreaterThanOrEqualTo(2900);
    }

    /** The hold a leader that died left behind for pg1 of epoch 1, as it writes it. */
    private void holdLeftBehind(String id) throws Exception {
        ClusterLock lock = new ClusterLock(fixture.client, RegistryPaths.lock("orders"));
        lock.acquire();
        try {
            new UnconfirmedHold(fixture.client, "orders")
                    .create(
                            new HoldRecord(id, "pg1", null, 1, Instant.now(), HoldRecord.UNCONFIRMED_PRIMARY),
                            lock.heldPath());
        } finally {
            lock.release();
        }
    }

    private String holdId() throws Exception {
        return RegistryJson.read(fixture.client.getData().forPath(RegistryPaths.hold("orders")), HoldRecord.class)
                .operationId();
    }

    @Test
    void aHoldLeftByALeaderThatDiedIsContinuedAndItsLeaseWaitStartsAgain() throws Exception {
        fixture = new EngineFixture("    clientLeaseTimeout: 3s\n");
        dialect = fixture.dialect;
        fixture.healthyCluster();
        hangPrimary();
        wrapper("cut-off", 2000, false);
        holdLeftBehind("unconfirmed-1-left");
        Thread.sleep(2000); // the previous leader's wait had run for 2 s when this one takes over
        long leading = System.nanoTime();
        supervisor = fixture.supervise(events);
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals("pg2"));
        assertThat((System.nanoTime() - leading) / 1_000_000)
                .as("the whole lease is waited again from the takeover: nothing of the old term's clock is trusted")
                .isGreaterThanOrEqualTo(2900);
        assertThat(events)
                .filteredOn(e -> e.kind() == ClusterEvent.Kind.PRIMARY_DEAD
                        && e.message().contains("told to stop"))
                .as("the hold was adopted, not written again")
                .isEmpty();
    }

    @Test
    void aHoldLeftBehindForAPrimaryThatAnswersIsReleased() throws Exception {
        fixture = new EngineFixture("    clientLeaseTimeout: 30s\n");
        dialect = fixture.dialect;
        fixture.healthyCluster();
        holdLeftBehind("unconfirmed-1-stale");
        assertThat(holdId()).isEqualTo("unconfirmed-1-stale");
        supervisor = fixture.supervise(events);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
        assertThat(publishedNode()).isEqualTo("pg1");
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
    }

    /** Waits for the hold of kind unconfirmed-primary on pg1; returns when it was seen (System.nanoTime). */
    private long awaitHold() throws Exception {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) != null);
        long heldAt = System.nanoTime();
        HoldRecord hold =
                RegistryJson.read(fixture.client.getData().forPath(RegistryPaths.hold("orders")), HoldRecord.class);
        assertThat(hold.kind()).isEqualTo(HoldRecord.UNCONFIRMED_PRIMARY);
        assertThat(hold.fromNode()).isEqualTo("pg1");
        return heldAt;
    }

    @Test
    void theHoldStaysWhileAPromotionIsPendingEvenWhenTheOldPrimaryAnswersAgain() throws Exception {
        fixture = new EngineFixture("    clientLeaseTimeout: 1s\n");
        dialect = fixture.dialect;
        fixture.healthyCluster();
        java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
        supervisor = fixture.supervise(
                new ClusterEvent.Listener() {
                    @Override
                    public void on(ClusterEvent e) {
                        events.add(e);
                    }

                    @Override
                    public void observed(
                            String cluster,
                            List<dev.baton.registry.NodeState> states,
                            java.util.Map<String, Duration> probeTimes) {
                        rounds.incrementAndGet();
                    }
                },
                java.time.Clock.systemUTC());
        fixture.awaitNodeStates();
        // The promotion is asked for and does not finish in time: it may still finish, so it stays recorded.
        dialect.slowPromotion.add("pg2");
        dialect.slowPromotion.add("pg3");
        hangPrimary();
        await().atMost(Duration.ofSeconds(15))
                .until(() -> fixture.registry.readOperation().isPresent()
                        && dialect.actions.stream().anyMatch(a -> a.startsWith("promote")));
        String holdId = holdId();
        // The old primary answers again, writable, while the promotion is pending: wrappers must stay away from it.
        dialect.hung.remove("pg1");
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 101, false, false));
        int now = rounds.get();
        await().atMost(Duration.ofSeconds(15)).until(() -> rounds.get() >= now + 5);
        assertThat(fixture.registry.readOperation()).as("still pending").isPresent();
        assertThat(holdId())
                .as("the hold is not released during a pending promotion")
                .isEqualTo(holdId);
        // The promotion finishes: it is published, and only then is the hold gone.
        String promoted = dialect.actions.stream()
                .filter(a -> a.startsWith("promote "))
                .findFirst()
                .orElseThrow()
                .substring("promote ".length());
        dialect.finishPromotion(promoted);
        await().atMost(Duration.ofSeconds(15)).until(() -> publishedNode().equals(promoted));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
    }

    @Test
    void aPrimaryThatAnswersAgainIsReleasedAndNotReplaced() throws Exception {
        start("    clientLeaseTimeout: 30s\n");
        hangPrimary();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) != null);
        dialect.hung.remove("pg1");
        dialect.nodes.put("pg1", new FakeDialect.Node(true, NodeRole.PRIMARY, 101, false, false));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> fixture.client.checkExists().forPath(RegistryPaths.hold("orders")) == null);
        assertThat(publishedNode()).isEqualTo("pg1");
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
    }

    @Test
    void aSucceedingFenceCommandReplacesTheLeaseWait() throws Exception {
        start("    clientLeaseTimeout: 60s\n    fenceCommand: \"test {node} = pg1 && test {port} = 1\"\n");
        wrapper("cut-off", 2000, false);
        hangPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
        assertThat(events).anyMatch(e -> e.message().contains("fence command for pg1: exit 0"));
    }

    @Test
    void aPreFailoverHookThatExitsNonZeroVetoesTheFailover() throws Exception {
        start("    hooks: { preFailover: \"test {newPrimary} != pg2\" }\n");
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> fixture.registry.readHistory().stream()
                .anyMatch(h -> h.outcome().equals("cancelled")));
        HistoryEntry vetoed = fixture.registry.readHistory().get(0);
        assertThat(vetoed.reason()).contains("preFailover hook vetoed").contains("exit 1");
        assertThat(vetoed.steps()).extracting(HistoryEntry.Step::name).contains("hook preFailover");
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("promote"));
        assertThat(publishedNode()).isEqualTo("pg1");
    }

    @Test
    void aSlowPostFailoverHookBlocksNothingAndIsRecordedWithItsExitStatus() throws Exception {
        start("    hooks: { postFailover: \"sleep 3; echo $BATON_NEW_PRIMARY {oldPrimary}\", timeout: 10s }\n");
        killPrimary();
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedNode().equals("pg2"));
        // While the hook sleeps, the loop goes on: pg2 dies too and is noticed at once (the hook is not waited for).
        dialect.nodes.put("pg2", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        await().atMost(Duration.ofSeconds(2)).until(() -> events.stream()
                .anyMatch(e -> e.kind() == ClusterEvent.Kind.PRIMARY_SUSPECT && "pg2".equals(e.node())));
        await().atMost(Duration.ofSeconds(10)).until(() -> fixture.registry.readHistory().stream()
                .anyMatch(h -> h.kind().equals("hook")));
        HistoryEntry hook = fixture.registry.readHistory().stream()
                .filter(h -> h.kind().equals("hook"))
                .findFirst()
                .orElseThrow();
        assertThat(hook.outcome()).isEqualTo("succeeded");
        assertThat(hook.reason()).startsWith("postFailover: exit 0 after");
        assertThat(hook.steps().get(0).millis()).isGreaterThanOrEqualTo(2900);
    }
}
