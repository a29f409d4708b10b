package dev.baton.orchestrator.coordination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.HoldRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Duration;
import java.time.Instant;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DESIGN rule 1 for the hold node, on a real ZooKeeper: an orchestrator whose session expired (and which got a new
 * one) can neither delete nor replace the hold its successor adopted, however its write is timed.
 */
class UnconfirmedHoldTest {
    private EmbeddedZooKeeper zk;
    private CuratorFramework oldLeader;
    private CuratorFramework successor;

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        oldLeader = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        successor = RegistryClient.start(zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
    }

    @AfterEach
    void stop() throws Exception {
        successor.close();
        oldLeader.close();
        zk.close();
    }

    private static HoldRecord hold(String id) {
        return new HoldRecord(id, "pg1", null, 1, Instant.EPOCH, HoldRecord.UNCONFIRMED_PRIMARY);
    }

    @Test
    void aLeaderThatLostItsSessionCannotDeleteOrReplaceTheHoldItsSuccessorAdopted() throws Exception {
        ClusterLock oldLock = new ClusterLock(oldLeader, RegistryPaths.lock("orders"));
        oldLock.acquire();
        String oldGuard = oldLock.heldPath();
        UnconfirmedHold byOld = new UnconfirmedHold(oldLeader, "orders");
        byOld.create(hold("unconfirmed-1-old"), oldGuard);

        // The old leader's session expires (its lock node goes with it); it reconnects with a new session at once.
        oldLeader.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> oldLeader.getZookeeperClient().isConnected()
                        && successor.checkExists().forPath(oldGuard) == null);

        // The successor takes the lock and continues the hold with a write of its own.
        ClusterLock newLock = new ClusterLock(successor, RegistryPaths.lock("orders"));
        newLock.acquire();
        UnconfirmedHold bySuccessor = new UnconfirmedHold(successor, "orders");
        bySuccessor.create(hold("unconfirmed-1-new"), newLock.heldPath());
        newLock.release();

        assertThatThrownBy(() -> byOld.release("unconfirmed-1-new", oldGuard)).isInstanceOf(LostLockException.class);
        assertThatThrownBy(() -> byOld.release(null, oldGuard)).isInstanceOf(LostLockException.class);
        assertThatThrownBy(() -> byOld.create(hold("unconfirmed-1-late"), oldGuard))
                .isInstanceOf(LostLockException.class);
        assertThatThrownBy(() -> byOld.create(hold("unconfirmed-1-late"), null)).isInstanceOf(LostLockException.class);
        assertThat(bySuccessor.read().orElseThrow().operationId()).isEqualTo("unconfirmed-1-new");
        assertThat(successor.checkExists().forPath(RegistryPaths.acks("orders", "unconfirmed-1-late")))
                .as("nothing of the refused transaction was written")
                .isNull();
    }

    @Test
    void aHoldIsMarkedForFencingOnlyUnderTheLockAndOnlyWhileItIsTheOneInForce() throws Exception {
        ClusterLock lock = new ClusterLock(successor, RegistryPaths.lock("orders"));
        lock.acquire();
        String guard = lock.heldPath();
        UnconfirmedHold holds = new UnconfirmedHold(successor, "orders");
        holds.create(hold("unconfirmed-2-a"), guard);
        assertThat(holds.read().orElseThrow().fence())
                .as("a hold is written unmarked")
                .isFalse();
        assertThat(holds.markForFence("unconfirmed-2-other", guard)).isFalse();
        assertThat(holds.read().orElseThrow().fence()).isFalse();
        assertThatThrownBy(() -> holds.markForFence("unconfirmed-2-a", null)).isInstanceOf(LostLockException.class);
        assertThat(holds.read().orElseThrow().fence()).isFalse();
        assertThat(holds.markForFence("unconfirmed-2-a", guard)).isTrue();
        assertThat(holds.read().orElseThrow().fence()).isTrue();
        assertThat(holds.read().orElseThrow().operationId()).isEqualTo("unconfirmed-2-a");
        assertThat(holds.markForFence("unconfirmed-2-a", guard))
                .as("marking twice is harmless")
                .isTrue();
        lock.release();
    }

    @Test
    void aReleaseDeletesOnlyTheHoldItNamesAndLeavesANewerOne() throws Exception {
        ClusterLock lock = new ClusterLock(successor, RegistryPaths.lock("orders"));
        lock.acquire();
        UnconfirmedHold holds = new UnconfirmedHold(successor, "orders");
        holds.create(hold("unconfirmed-1-a"), lock.heldPath());
        holds.create(hold("unconfirmed-1-b"), lock.heldPath());
        holds.release("unconfirmed-1-a", lock.heldPath());
        assertThat(holds.read().orElseThrow().operationId()).isEqualTo("unconfirmed-1-b");
        assertThat(successor.checkExists().forPath(RegistryPaths.acks("orders", "unconfirmed-1-a")))
                .as("the acknowledgements of a hold no longer in force go")
                .isNull();
        assertThat(successor.checkExists().forPath(RegistryPaths.acks("orders", "unconfirmed-1-b")))
                .isNotNull();
        holds.release("unconfirmed-1-b", lock.heldPath());
        assertThat(holds.read()).isEmpty();
        lock.release();
    }
}
