package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

class EmbeddedZooKeeperTest {

    @Test
    void clientIsDisconnectedWhileStoppedAndDataSurvivesRestart() throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
        Path dir;
        try {
            assertThat(zk.connectString()).startsWith("127.0.0.1:");
            AtomicReference<KeeperState> state = new AtomicReference<>();
            ZooKeeper client = new ZooKeeper(zk.connectString(), 30_000, e -> state.set(e.getState()));
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> state.get() == KeeperState.SyncConnected);
                client.create("/baton", "v1".getBytes(), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

                zk.stop();
                await().atMost(Duration.ofSeconds(10)).until(() -> state.get() == KeeperState.Disconnected);

                int port = zk.port();
                zk.restart();
                assertThat(zk.port()).isEqualTo(port);
                await().atMost(Duration.ofSeconds(20)).until(() -> state.get() == KeeperState.SyncConnected);
                assertThat(new String(client.getData("/baton", false, null))).isEqualTo("v1");
            } finally {
                client.close();
            }
            dir = zk.baseDir();
            assertThat(dir).isDirectory();
        } finally {
            zk.close();
        }
        assertThat(dir).doesNotExist();
    }
}
