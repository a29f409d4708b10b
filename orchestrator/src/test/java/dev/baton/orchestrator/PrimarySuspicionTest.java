package dev.baton.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.UnconfirmedHold;
import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hold of one suspicion counts for the primary and epoch it names only (DESIGN rule 10): acknowledgements of a
 * hold on an older primary prove nothing about a newer one. On a real ZooKeeper, one wrapper registered.
 */
class PrimarySuspicionTest {
    private EmbeddedZooKeeper zk;
    private CuratorFramework client;
    private ExecutorService background;
    private PrimarySuspicion suspicion;

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        client = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        ClusterConfig cluster = new ConfigLoader(name -> null)
                .parse(
                        """
                        zookeeper: { connect: "127.0.0.1:1" }
                        clusters:
                          - name: orders
                            dialect: postgresql
                            user: baton
                            clientLeaseTimeout: 60s
                            nodes:
                              - { id: pg1, host: h, port: 1 }
                              - { id: pg2, host: h, port: 2 }
                        """,
                        "test")
                .clusters()
                .get(0);
        background = Executors.newSingleThreadExecutor();
        assertThat(client.blockUntilConnected(10, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        suspicion = new PrimarySuspicion(
                cluster,
                new UnconfirmedHold(client, "orders"),
                new ClusterLock(client, RegistryPaths.lock("orders")),
                () -> true, // as a leader that has not noticed yet that its session expired
                () -> {
                    try {
                        return client.getZookeeperClient().getZooKeeper().getSessionId();
                    } catch (Exception e) {
                        return 0;
                    }
                },
                background,
                new EventSink("orders", e -> {}, Clock.systemUTC()),
                Clock.systemUTC(),
                System::nanoTime);
        client.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(
                        RegistryPaths.client("orders", "app-1"),
                        RegistryJson.write(new ClientRegistration("app-1", "app", 1, true, 2000, Instant.now())));
    }

    @AfterEach
    void stop() throws Exception {
        background.shutdownNow();
        client.close();
        zk.close();
    }

    private static PrimaryRecord record(String node, long epoch) {
        return new PrimaryRecord("orders", node, "h", 1, "postgresql", epoch, Instant.EPOCH);
    }

    private String holdId() throws Exception {
        return RegistryJson.read(client.getData().forPath(RegistryPaths.hold("orders")), HoldRecord.class)
                .operationId();
    }

    private void acknowledge(String holdId) throws Exception {
        client.create().withMode(CreateMode.EPHEMERAL).forPath(RegistryPaths.ack("orders", holdId, "app-1"));
    }

    @Test
    void theAcknowledgementsOfAHoldOnAnOlderPrimaryDoNotClearANewerOne() throws Exception {
        PrimaryRecord first = record("pg1", 1);
        suspicion.hold(first, "is silent");
        acknowledge(holdId());
        assertThat(suspicion.cleared(first))
                .as("every wrapper acknowledged the hold on pg1")
                .isTrue();

        // pg2 was published (epoch 2) and the hold on pg1 is still in force here (its release failed): pg2 now
        // looks dead. The acknowledgements of pg1's hold say nothing about pg2.
        PrimaryRecord second = record("pg2", 2);
        assertThat(suspicion.holding(second)).isFalse();
        assertThat(suspicion.cleared(second)).isFalse();
        suspicion.hold(second, "is silent");
        String secondHold = holdId();
        assertThat(secondHold).startsWith("unconfirmed-2-");
        assertThat(suspicion.cleared(second))
                .as("nobody acknowledged the hold on pg2 yet")
                .isFalse();
        acknowledge(secondHold);
        assertThat(suspicion.cleared(second)).isTrue();
    }

    @Test
    void noHoldIsWrittenOrReleasedWhileAnotherInstanceHoldsTheClusterLock() throws Exception {
        PrimaryRecord first = record("pg1", 1);
        suspicion.hold(first, "is silent");
        String held = holdId();
        // Another instance acts on the cluster (another thread's lock: InterProcessMutex is per thread).
        ClusterLock otherInstance = new ClusterLock(client, RegistryPaths.lock("orders"));
        java.util.concurrent.CountDownLatch locked = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread other = new Thread(() -> {
            try {
                otherInstance.acquire();
                try {
                    locked.countDown();
                    done.await();
                } finally {
                    otherInstance.release();
                }
            } catch (Exception e) {
                locked.countDown();
            }
        });
        other.setDaemon(true);
        other.start();
        try {
            assertThat(locked.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            suspicion.release();
            assertThat(holdId()).as("not deleted without the lock").isEqualTo(held);
            assertThat(suspicion.holding(first)).isFalse();
        } finally {
            done.countDown();
            other.join(10_000);
        }
        suspicion.release(); // the failed release is retried
        assertThat(client.checkExists().forPath(RegistryPaths.hold("orders"))).isNull();
    }

    @Test
    void aTermWhoseSessionExpiredWritesNothingOnTheNewSessionAlthoughItCouldTakeTheLockThere() throws Exception {
        PrimaryRecord first = record("pg1", 1);
        suspicion.hold(first, "is silent");
        String held = holdId();
        // The session expires and the client reconnects with a new one, before this term noticed it lost leadership
        // (mayAct still says yes): the cluster lock could be taken again on the new session.
        long before = client.getZookeeperClient().getZooKeeper().getSessionId();
        client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> client.getZookeeperClient().isConnected()
                        && client.getZookeeperClient().getZooKeeper().getSessionId() != before);
        suspicion.release();
        assertThat(holdId()).as("the successor's hold stays").isEqualTo(held);
        suspicion.hold(record("pg2", 2), "is silent");
        assertThat(holdId()).as("and is not replaced").isEqualTo(held);
    }
}
