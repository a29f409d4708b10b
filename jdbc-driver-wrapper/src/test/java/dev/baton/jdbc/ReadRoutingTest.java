package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Read routing on a real PostgreSQL primary with two streaming replicas. Node states are written into ZooKeeper the
 * way the orchestrator publishes them, with the lag measured on the servers: replay is paused on one replica and the
 * primary writes past the limit.
 */
class ReadRoutingTest {
    private static final String CLUSTER = "orders";
    private static final String APP_PASSWORD = "app-secret-" + Long.toHexString(System.nanoTime());
    private static final long LAG_LIMIT_BYTES = 64 * 1024;

    private static PostgresSandbox pg;
    private static EmbeddedZooKeeper zk;
    private static CuratorFramework admin;
    private FailoverDataSource ds;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresSandbox.start(2);
        try {
            primary()
                    .sql("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "';"
                            + " CREATE TABLE routed (id bigint PRIMARY KEY); GRANT ALL ON routed TO app;");
            zk = EmbeddedZooKeeper.start();
            admin = RegistryClient.start(
                    zk.connectString(), RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3));
            admin.create()
                    .creatingParentsIfNeeded()
                    .forPath(
                            RegistryPaths.primary(CLUSTER),
                            RegistryJson.write(new PrimaryRecord(
                                    CLUSTER, "pg1", "127.0.0.1", primary().port(), "postgresql", 1, Instant.now())));
        } catch (Exception | Error e) {
            stop();
            throw e;
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (admin != null) {
                admin.close();
            }
            if (zk != null) {
                zk.close();
            }
        } finally {
            pg.close();
        }
    }

    @AfterEach
    void cleanUp() {
        if (ds != null) {
            ds.close();
        }
        for (PgNode replica : replicas()) {
            replica.sql("SELECT pg_wal_replay_resume()");
        }
    }

    private static PgNode primary() {
        return pg.nodes().get(0);
    }

    private static List<PgNode> replicas() {
        return pg.nodes().subList(1, 3);
    }

    private FailoverDataSource dataSource(ReplicaBalance balance) {
        ds = FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user("app")
                .password(APP_PASSWORD)
                .database("postgres")
                .readOnly(true)
                .maxReplicaLag(LAG_LIMIT_BYTES, Duration.ofSeconds(30))
                .replicaBalance(balance)
                .build();
        return ds;
    }

    /** Publishes a replica's state as the orchestrator does, with the lag given. */
    private static void publish(PgNode node, long lagBytes, Instant lastSeen) throws Exception {
        NodeState state = new NodeState(
                node.id(),
                "127.0.0.1",
                node.port(),
                true,
                NodeRole.REPLICA,
                1,
                null,
                null,
                lagBytes,
                0.0,
                "127.0.0.1:" + primary().port(),
                true,
                false,
                false,
                null,
                lastSeen,
                List.of());
        String path = RegistryPaths.node(CLUSTER, node.id());
        if (admin.checkExists().forPath(path) == null) {
            admin.create().creatingParentsIfNeeded().forPath(path, RegistryJson.write(state));
        } else {
            admin.setData().forPath(path, RegistryJson.write(state));
        }
    }

    /** The replay lag of {@code replica} behind the primary's current WAL position, in bytes, measured on the servers. */
    private static long measuredLag(PgNode replica) {
        long primaryLsn = CommitOutcome.parseLsn(primary().sql("SELECT pg_current_wal_lsn()"));
        long replayed = CommitOutcome.parseLsn(replica.sql("SELECT pg_last_wal_replay_lsn()"));
        return Math.max(0, primaryLsn - replayed);
    }

    private static int port(Connection c) throws SQLException {
        return Integer.parseInt(TestServers.one(c, "SELECT inet_server_port()"));
    }

    private Set<Integer> portsOfBorrows(int n) throws SQLException {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < n; i++) {
            try (Connection c = ds.getConnection()) {
                ports.add(port(c));
            }
        }
        return ports;
    }

    @Test
    void skipsALaggingReplicaMovesAKeptConnectionOffItAndFallsBackToThePrimary() throws Exception {
        PgNode pg2 = replicas().get(0);
        PgNode pg3 = replicas().get(1);
        publish(pg2, 0, Instant.now());
        publish(pg3, 0, Instant.now());
        dataSource(ReplicaBalance.ROUND_ROBIN);
        await().atMost(Duration.ofSeconds(20)).until(() -> portsOfBorrows(4).equals(Set.of(pg2.port(), pg3.port())));

        Connection kept = ds.getConnection();
        while (port(kept) != pg3.port()) {
            kept.close();
            kept = ds.getConnection();
        }
        assertThat(kept.isReadOnly()).isTrue();

        pg3.sql("SELECT pg_wal_replay_pause()");
        primary().sql("INSERT INTO routed SELECT g FROM generate_series(1, 5000) g");
        await().atMost(Duration.ofSeconds(20)).until(() -> measuredLag(pg2) == 0);
        long lag = measuredLag(pg3);
        assertThat(lag).as("pg3's replay lag").isGreaterThan(LAG_LIMIT_BYTES);
        publish(pg2, measuredLag(pg2), Instant.now());
        publish(pg3, lag, Instant.now());

        await().atMost(Duration.ofSeconds(10)).until(() -> portsOfBorrows(4).equals(Set.of(pg2.port())));
        try (Connection c = ds.getConnection()) {
            assertThat(TestServers.one(c, "SELECT count(*) FROM routed WHERE id > 0"))
                    .isEqualTo("5000");
        }
        assertThat(port(kept))
                .as("a kept connection moves off the lagging replica")
                .isEqualTo(pg2.port());
        assertThat(TestServers.one(kept, "SELECT count(*) FROM routed WHERE id > 0"))
                .isEqualTo("5000");
        kept.close();

        publish(pg2, 10 * LAG_LIMIT_BYTES, Instant.now());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> portsOfBorrows(2).equals(Set.of(primary().port())));
        try (Connection c = ds.getConnection()) {
            assertThat(c.isReadOnly())
                    .as("the fallback to the primary is read-only too")
                    .isTrue();
        }
    }

    @Test
    void aConnectionTheApplicationMakesReadOnlyGoesToAReplicaAndBackToThePrimary() throws Exception {
        publish(replicas().get(0), 0, Instant.now());
        publish(replicas().get(1), 0, Instant.now());
        ds = FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user("app")
                .password(APP_PASSWORD)
                .database("postgres")
                .routeReadOnlyConnections(true)
                .build();
        Set<Integer> replicaPorts =
                Set.of(replicas().get(0).port(), replicas().get(1).port());
        try (Connection c = ds.getConnection()) {
            assertThat(port(c)).isEqualTo(primary().port());
            c.setReadOnly(true);
            assertThat(port(c)).isIn(replicaPorts);
            assertThat(c.isReadOnly()).isTrue();
            c.setReadOnly(false);
            assertThat(port(c)).isEqualTo(primary().port());
            try (var s = c.createStatement()) {
                assertThat(s.executeUpdate("INSERT INTO routed VALUES (-1) ON CONFLICT DO NOTHING"))
                        .isBetween(0, 1);
            }
        }
        try (Connection other = ds.getConnection()) {
            assertThat(port(other))
                    .as("without setReadOnly: the primary")
                    .isEqualTo(primary().port());
        }
    }

    @Test
    void leastLagPrefersTheReplicaWithTheSmallestPublishedLagAndIgnoresStaleStates() throws Exception {
        PgNode pg2 = replicas().get(0);
        PgNode pg3 = replicas().get(1);
        publish(pg2, 5000, Instant.now());
        publish(pg3, 10, Instant.now());
        dataSource(ReplicaBalance.LEAST_LAG);
        await().atMost(Duration.ofSeconds(20)).until(() -> portsOfBorrows(4).equals(Set.of(pg3.port())));

        publish(pg3, 0, Instant.now().minus(Duration.ofMinutes(1))); // the orchestrator stopped publishing it
        await().atMost(Duration.ofSeconds(10)).until(() -> portsOfBorrows(4).equals(Set.of(pg2.port())));
    }
}
