package dev.baton.sandbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

class PartitionableEnsembleTest {
    /** The servers' maxSessionTimeout (20 ticks): the isolated follower's sessions outlive isolation and heal. */
    private static final int SESSION_TIMEOUT_MS = 40_000;

    /** What an asynchronous read returned: its result code and, with OK, the data. */
    private record Read(Code code, String data) {}

    @Test
    void anIsolatedFollowerServesStaleReadsButNoSync() throws Exception {
        try (PartitionableEnsemble zk = PartitionableEnsemble.start()) {
            int leader = zk.leader();
            int f = (leader + 1) % 3;
            int other = (leader + 2) % 3;
            String majority = zk.connectString(leader) + "," + zk.connectString(other);
            try (ZooKeeper onF = connect(zk.connectString(f));
                    ZooKeeper syncOnF = connect(zk.connectString(f));
                    ZooKeeper onMajority = connect(majority)) {
                onMajority.create("/x", "1".getBytes(UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                assertThat(sync(onF).get(10, TimeUnit.SECONDS)).isEqualTo(Code.OK);
                assertThat(read(onF)).isEqualTo("1");

                zk.isolate(f);
                long isolatedAt = System.nanoTime();
                onMajority.setData("/x", "2".getBytes(UTF_8), -1);
                assertThat(read(onMajority)).isEqualTo("2");

                // the hole: the cut-off follower answers a plain read from its own, stale copy
                assertThat(read(onF)).isEqualTo("1");
                System.out.printf(
                        "isolated follower %d (leader %d) answered the stale read %d ms after isolation%n",
                        f, leader, millisSince(isolatedAt));

                // sync() then read: neither completes with OK while the follower is cut off
                CompletableFuture<Code> synced = sync(syncOnF);
                CompletableFuture<Read> readBehindSync = readAsync(syncOnF);
                CompletableFuture<Long> syncedAt = synced.thenApply(code -> System.nanoTime());
                await().during(Duration.ofSeconds(3))
                        .atMost(Duration.ofSeconds(5))
                        .until(() -> !completedWith(synced, Code.OK)
                                && !completedWith(readBehindSync.thenApply(Read::code), Code.OK));

                // how long the follower goes on answering plain reads: until it gives up on its leader
                AtomicLong lastStaleRead = new AtomicLong(isolatedAt);
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            try {
                                assertThat(read(onF)).isEqualTo("1");
                                lastStaleRead.set(System.nanoTime());
                                return false;
                            } catch (KeeperException e) {
                                return true;
                            }
                        });
                System.out.printf(
                        "isolated follower kept serving stale reads for %d ms after isolation"
                                + " (syncLimit x tickTime = 10000 ms); first failed read %d ms after isolation%n",
                        TimeUnit.NANOSECONDS.toMillis(lastStaleRead.get() - isolatedAt), millisSince(isolatedAt));

                Code syncCode = synced.get(30, TimeUnit.SECONDS);
                Read behind = readBehindSync.get(30, TimeUnit.SECONDS);
                System.out.printf(
                        "sync() issued after the isolation completed with %s, the read behind it with %s,"
                                + " %d ms after isolation%n",
                        syncCode, behind.code(), TimeUnit.NANOSECONDS.toMillis(syncedAt.join() - isolatedAt));
                assertThat(syncCode).isNotEqualTo(Code.OK);
                assertThat(behind).isNotEqualTo(new Read(Code.OK, "1"));

                zk.heal();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .ignoreExceptions()
                        .until(() -> read(onF), "2"::equals);
                System.out.printf("healed follower read \"2\" %d ms after isolation%n", millisSince(isolatedAt));
            }
        }
    }

    private static ZooKeeper connect(String connectString) throws Exception {
        ZooKeeper client = new ZooKeeper(connectString, SESSION_TIMEOUT_MS, e -> {});
        await().atMost(Duration.ofSeconds(30)).until(() -> client.getState().isConnected());
        return client;
    }

    private static String read(ZooKeeper client) throws KeeperException, InterruptedException {
        return new String(client.getData("/x", false, null), UTF_8);
    }

    private static CompletableFuture<Code> sync(ZooKeeper client) {
        CompletableFuture<Code> done = new CompletableFuture<>();
        client.sync("/x", (rc, path, ctx) -> done.complete(Code.get(rc)), null);
        return done;
    }

    private static CompletableFuture<Read> readAsync(ZooKeeper client) {
        CompletableFuture<Read> done = new CompletableFuture<>();
        client.getData(
                "/x",
                false,
                (rc, path, ctx, data, stat) ->
                        done.complete(new Read(Code.get(rc), data == null ? null : new String(data, UTF_8))),
                null);
        return done;
    }

    private static boolean completedWith(CompletableFuture<Code> future, Code code) {
        return future.isDone() && future.join() == code;
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
