package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.TcpProxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a published primary record reaches a data source, on a real ZooKeeper: in the creation event of its epoch node
 * (no read), read after the record changes without one, and read again after a reconnection that missed changes.
 * Every data source here runs without the lease, whose pings would read the record every 500 ms and hide a missed
 * event. No database is needed: pools start at the first borrow, and nothing here borrows.
 */
class PrimaryRecordDeliveryTest {
    private static final String CLUSTER = "orders";

    private EmbeddedZooKeeper zk;
    private CuratorFramework admin;
    private FailoverDataSource ds;
    /** The epochs the data source switched to, in order. */
    private final List<Long> switched = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = EmbeddedZooKeeper.start();
        admin = RegistryAdmin.connect(zk);
        admin.create().creatingParentsIfNeeded().forPath(RegistryPaths.epochs(CLUSTER));
        admin.create().forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record(1)));
    }

    @AfterEach
    void stop() throws Exception {
        if (ds != null) {
            ds.close();
        }
        admin.close();
        zk.close();
    }

    @Test
    void aRecordCarriedByAnEpochNodeReachesTheDataSourceWithoutTheRecordBeingWritten() throws Exception {
        open(zk.connectString());
        admin.create().forPath(RegistryPaths.epoch(CLUSTER, record(2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 2);
        assertThat(ds.currentPrimary().orElseThrow()).isEqualTo(record(2));
    }

    @Test
    void theRecordsOwnChangeInTheSameTransactionIsNotReadAgain() throws Exception {
        open(zk.connectString());
        // A transaction whose epoch node and record disagree, which the orchestrator never writes: it shows which of
        // the two the data source took. The record's change event has the epoch node's zxid, so it is not read.
        publish(record(2), record(3));
        // Had it been read, the answer (epoch 3) would come before epoch 4's event or be refused after it as older;
        // and before the read of epoch 5, which this session sends later.
        admin.create().forPath(RegistryPaths.epoch(CLUSTER, record(4)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 4);
        admin.setData().forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record(5)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 5);
        assertThat(switched).containsSubsequence(2L, 4L, 5L).doesNotContain(3L);
        assertThat(ds.ignoredRecords()).isZero();
    }

    @Test
    void aRecordWrittenWithoutAnEpochNodeIsRead() throws Exception {
        open(zk.connectString());
        admin.setData().forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record(2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 2);
    }

    @Test
    void anUnreadableEpochNodeIsIgnoredAndTheNextOneIsTaken() throws Exception {
        open(zk.connectString());
        admin.create().forPath(RegistryPaths.epochs(CLUSTER) + "/0000000000000000002-!not-base64!");
        admin.create().forPath(RegistryPaths.epochs(CLUSTER) + "/notes");
        admin.create().forPath(RegistryPaths.epoch(CLUSTER, record(3)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 3);
        assertThat(switched).doesNotContain(2L);
    }

    @Test
    void aPublicationMissedWhileCutOffFromZooKeeperIsReadOnReconnection() throws Exception {
        try (TcpProxy link = new TcpProxy("127.0.0.1", zk.port())) {
            open("127.0.0.1:" + link.port());
            link.refuse(); // the data source's connection is reset; its session lives on (10 s)
            publish(record(2), record(2)); // as the orchestrator does
            assertThat(ds.newestEpochSeen()).isEqualTo(1);
            link.heal();
            // the watches do not replay what happened meanwhile: the read after the reconnection does
            await().atMost(Duration.ofSeconds(20)).until(() -> ds.newestEpochSeen() == 2);
            // and the watches are in place again
            admin.create().forPath(RegistryPaths.epoch(CLUSTER, record(3)));
            await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 3);
        }
    }

    @Test
    void afterTheSessionExpiresTheWatchesAreSetOnTheNewSession() throws Exception {
        try (TcpProxy link = new TcpProxy("127.0.0.1", zk.port())) {
            open("127.0.0.1:" + link.port());
            long firstSession = ds.zooKeeperSessionId();
            link.refuse();
            publish(record(2), record(2));
            // Cut off past the session timeout, Curator gives the session up and makes a new handle, without the
            // old watches (its id is 0 until it connects): only then is the link healed, so the client cannot get
            // back to the old session.
            await().atMost(FailoverConfig.ZK_SESSION_TIMEOUT.multipliedBy(3))
                    .ignoreExceptions()
                    .until(() -> ds.zooKeeperSessionId() != firstSession);
            link.heal();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> ds.zooKeeperSessionId() != 0 && ds.newestEpochSeen() == 2);
            assertThat(ds.zooKeeperSessionId()).isNotEqualTo(firstSession);
            // An epoch node alone, the record unchanged: only a recursive watch on the new session can bring it.
            admin.create().forPath(RegistryPaths.epoch(CLUSTER, record(3)));
            await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 3);
            assertThat(switched).containsExactly(1L, 2L, 3L);
        }
    }

    private void open(String zookeeper) {
        ds = FailoverDataSource.builder()
                .zookeeper(zookeeper)
                .cluster(CLUSTER)
                .user("app")
                .password("secret")
                .database("app")
                .lease(false)
                .build();
        ds.addPrimaryChangeListener(r -> switched.add(r.epoch()));
        await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 1);
    }

    /** One transaction: the epoch node carrying {@code carried}, and the record set to {@code written}. */
    private void publish(PrimaryRecord carried, PrimaryRecord written) throws Exception {
        admin.transaction()
                .forOperations(
                        admin.transactionOp().create().forPath(RegistryPaths.epoch(CLUSTER, carried)),
                        admin.transactionOp()
                                .setData()
                                .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(written)));
    }

    private static PrimaryRecord record(long epoch) {
        return new PrimaryRecord(
                CLUSTER, "pg" + epoch, "127.0.0.1", 5400 + (int) epoch, "postgresql", epoch, Instant.EPOCH);
    }
}
