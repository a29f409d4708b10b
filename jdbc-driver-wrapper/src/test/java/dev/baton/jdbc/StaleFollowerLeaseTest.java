package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.PartitionableEnsemble;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/**
 * DESIGN rule 11 on a real 3-server ensemble: a ZooKeeper follower cut off from its leader keeps answering plain reads
 * for up to syncLimit × tickTime (about 10 s with ZooKeeper's sample configuration), while the majority side may
 * publish a new primary after about 3 s. A wrapper that talks only to that follower must let its lease run out within
 * its {@code leaseTimeout}: the lease is renewed by {@code sync()} then read, never by a plain read.
 */
class StaleFollowerLeaseTest {
    private static final String CLUSTER = "orders";

    @Test
    void aDataSourceOnAFollowerCutOffFromItsLeaderLetsItsLeaseRunOutWhileTheFollowerStillAnswersReads()
            throws Exception {
        try (PartitionableEnsemble zk = PartitionableEnsemble.start()) {
            int follower = (zk.leader() + 1) % 3;
            String path = "/" + RegistryPaths.DEFAULT_NAMESPACE + RegistryPaths.primary(CLUSTER);
            ZooKeeper majority = connect(zk.connectString());
            ZooKeeper onFollower = connect(zk.connectString(follower));
            try {
                create(majority, path);
                FailoverDataSource ds = FailoverDataSource.builder()
                        .zookeeper(zk.connectString(follower))
                        .cluster(CLUSTER)
                        .user("app")
                        .password("unused")
                        .build();
                try {
                    await().atMost(Duration.ofSeconds(10)).until(ds::leaseValid);
                    zk.isolate(follower);
                    long cut = System.nanoTime();
                    await().atMost(Duration.ofSeconds(8)).until(() -> !ds.leaseValid());
                    long expiredMs = (System.nanoTime() - cut) / 1_000_000;
                    // The follower still answers a plain read now: a lease renewed by plain reads would still be valid.
                    assertThat(new String(onFollower.getData(path, false, null), StandardCharsets.UTF_8))
                            .contains("\"nodeId\":\"a\"");
                    long staleMs = (System.nanoTime() - cut) / 1_000_000;
                    System.out.println("lease ran out " + expiredMs + " ms after the follower was cut off from its"
                            + " leader; the follower still answered a plain read " + staleMs + " ms after the cut");
                    assertThat(expiredMs)
                            .as("ran out within leaseTimeout and a ping period")
                            .isLessThan(FailoverConfig.DEFAULT_LEASE_TIMEOUT.toMillis() + 2000);
                } finally {
                    ds.close();
                }
            } finally {
                onFollower.close();
                majority.close();
            }
        }
    }

    private static void create(ZooKeeper zk, String path) throws Exception {
        StringBuilder at = new StringBuilder();
        String[] parts = path.substring(1).split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            at.append('/').append(parts[i]);
            if (zk.exists(at.toString(), false) == null) {
                zk.create(at.toString(), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
        }
        PrimaryRecord record = new PrimaryRecord(CLUSTER, "a", "127.0.0.1", 1, "postgresql", 1, Instant.now());
        zk.create(path, RegistryJson.write(record), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }

    private static ZooKeeper connect(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 40_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            zk.close();
            throw new IllegalStateException("no ZooKeeper session with " + connect + " within 10 s");
        }
        return zk;
    }
}
