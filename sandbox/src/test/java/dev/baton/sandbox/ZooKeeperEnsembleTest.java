package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

class ZooKeeperEnsembleTest {

    @Test
    void keepsServingWithOneServerOfThreeDown() throws Exception {
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(3)) {
            assertThat(zk.connectString().split(",")).hasSize(3);
            zk.stop(0);
            AtomicReference<KeeperState> state = new AtomicReference<>();
            ZooKeeper client = new ZooKeeper(zk.connectString(), 30_000, e -> state.set(e.getState()));
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> state.get() == KeeperState.SyncConnected);
                client.create("/quorum", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.restart(0);
                assertThat(client.exists("/quorum", false)).isNotNull();
            } finally {
                client.close();
            }
        }
    }
}
