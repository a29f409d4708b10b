package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code FailoverDataSource.builder().meterRegistry(..)} on real PostgreSQL servers and a real ZooKeeper: HikariCP's
 * pool series continue under one pool name across an epoch change, and Baton's own series count what happened.
 */
class WrapperMetricsTest {
    private static final String CLUSTER = "orders";
    private static final String POOL = "baton-" + CLUSTER;
    private static final String USER = "baton";
    private static final String PASSWORD = "metrics-test-" + Long.toHexString(System.nanoTime());

    private static PostgresSandbox sandboxA;
    private static PostgresSandbox sandboxB;
    private static PgNode pgA;
    private static PgNode pgB;

    private EmbeddedZooKeeper zk;
    private CuratorFramework admin;
    private FailoverDataSource ds;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeAll
    static void startPostgres() throws Exception {
        sandboxA = PostgresSandbox.builder()
                .replicas(0)
                .user(USER)
                .password(PASSWORD)
                .start();
        try {
            sandboxB = PostgresSandbox.builder()
                    .replicas(0)
                    .user(USER)
                    .password(PASSWORD)
                    .start();
        } catch (Exception | Error e) {
            sandboxA.close();
            throw e;
        }
        pgA = sandboxA.nodes().get(0);
        pgB = sandboxB.nodes().get(0);
    }

    @AfterAll
    static void stopPostgres() {
        try {
            if (sandboxA != null) {
                sandboxA.close();
            }
        } finally {
            if (sandboxB != null) {
                sandboxB.close();
            }
        }
    }

    @BeforeEach
    void startZooKeeper() throws Exception {
        zk = EmbeddedZooKeeper.start();
        admin = RegistryAdmin.connect(zk);
    }

    @AfterEach
    void stopEverything() throws Exception {
        try {
            if (ds != null) {
                ds.close();
            }
        } finally {
            admin.close();
            zk.close();
        }
    }

    private FailoverDataSource dataSource() {
        ds = FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user(USER)
                .password(PASSWORD)
                .database("postgres")
                .hikari(c -> c.setConnectionTimeout(5000))
                .meterRegistry(registry)
                .build();
        return ds;
    }

    @Test
    void poolSeriesContinueUnderOneNameAcrossAnEpochChangeAndBatonCountsMovesHoldsAndErrors() throws Exception {
        publish("a", pgA.port(), 1);
        FailoverDataSource ds = dataSource();
        Connection kept = ds.getConnection();
        Connection inTransaction = ds.getConnection();
        assertThat(serverPort(kept)).isEqualTo(pgA.port());
        inTransaction.setAutoCommit(false);
        assertThat(serverPort(inTransaction)).isEqualTo(pgA.port());
        assertThat(gauge("baton.wrapper.epoch")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> hikariGauge("hikaricp.connections.active") == 2);
        long acquiredOnA = registry.get("hikaricp.connections.acquire")
                .tag("pool", POOL)
                .timer()
                .count();
        assertThat(acquiredOnA).isGreaterThanOrEqualTo(2);

        // a switchover as the orchestrator plays it: hold, publish the new primary and release in one transaction
        admin.create().forPath(RegistryPaths.hold(CLUSTER), "{\"reason\":\"switchover\"}".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(ds::isHolding);
        CompletableFuture<Integer> heldBorrow = CompletableFuture.supplyAsync(() -> {
            try (Connection c = ds.getConnection()) {
                return serverPort(c);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !heldBorrow.isDone());
        admin.transaction()
                .forOperations(
                        admin.transactionOp()
                                .setData()
                                .forPath(
                                        RegistryPaths.primary(CLUSTER), RegistryJson.write(record("b", pgB.port(), 2))),
                        admin.transactionOp().delete().forPath(RegistryPaths.hold(CLUSTER)));
        assertThat(heldBorrow.get(10, TimeUnit.SECONDS)).isEqualTo(pgB.port());

        assertThat(serverPort(kept)).as("the kept connection moved").isEqualTo(pgB.port());
        SQLException lost = assertThrows(SQLException.class, () -> serverPort(inTransaction));
        assertThat(lost.getSQLState()).isEqualTo(FailoverSqlStates.TRANSACTION_LOST);
        inTransaction.rollback();

        assertThat(gauge("baton.wrapper.epoch")).isEqualTo(2);
        assertThat(counter("baton.wrapper.epoch.changes")).isEqualTo(1);
        assertThat(registry.get("baton.wrapper.connections.moved")
                        .tag("reason", "new-primary")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get("baton.wrapper.hold").timer().count()).isEqualTo(1);
        assertThat(registry.get("baton.wrapper.hold").timer().totalTime(TimeUnit.MILLISECONDS))
                .isGreaterThanOrEqualTo(200);
        assertThat(registry.get("baton.wrapper.errors")
                        .tag("sqlstate", FailoverSqlStates.TRANSACTION_LOST)
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get("baton.wrapper.errors")
                        .tag("sqlstate", FailoverSqlStates.NOT_RUN)
                        .counter()
                        .count())
                .isZero();

        // HikariCP's series: the same meters, now counting and reading the new epoch's pool
        assertThat(registry.get("hikaricp.connections.acquire")
                        .tag("pool", POOL)
                        .timer()
                        .count())
                .isGreaterThan(acquiredOnA);
        // only the kept connection is on the new primary: the lost transaction's connection was dropped
        await().atMost(Duration.ofSeconds(5)).until(() -> hikariGauge("hikaricp.connections.active") == 1);
        assertThat(hikariGauge("hikaricp.connections.max")).isEqualTo(10);
        assertThat(registry.getMeters())
                .as("no series named after an epoch's pool")
                .allSatisfy(m -> assertThat(m.getId().getTag("pool")).isIn(null, POOL));

        kept.close();
        inTransaction.close();
        ds.close();
        assertThat(registry.getMeters()).as("every meter removed on close").isEmpty();
    }

    @Test
    void countsBorrowsThatLeaveAStaleEpochAndLeaseExpiries() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        publish("dead", deadPort, 1);
        FailoverDataSource ds = dataSource();
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 1);
        CompletableFuture<Integer> borrow = CompletableFuture.supplyAsync(() -> {
            try (Connection c = ds.getConnection()) {
                return serverPort(c);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !borrow.isDone());
        assertThat(counter("baton.wrapper.borrows.stale")).isZero();
        publish("b", pgB.port(), 2);
        assertThat(borrow.get(10, TimeUnit.SECONDS)).isEqualTo(pgB.port());
        assertThat(counter("baton.wrapper.borrows.stale")).isEqualTo(1);

        double expiries = counter("baton.wrapper.lease.expiries");
        zk.stop();
        await().atMost(Duration.ofSeconds(15)).until(() -> counter("baton.wrapper.lease.expiries") == expiries + 1);
        SQLException refused = assertThrows(SQLException.class, ds::getConnection);
        assertThat(refused.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
        assertThat(registry.get("baton.wrapper.errors")
                        .tag("sqlstate", FailoverSqlStates.NO_PRIMARY)
                        .counter()
                        .count())
                .isEqualTo(1);
        zk.restart();
        await().atMost(Duration.ofSeconds(20)).until(ds::leaseValid);
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgB.port());
        }
    }

    private double gauge(String name) {
        return registry.get(name).tag("cluster", CLUSTER).gauge().value();
    }

    private double counter(String name) {
        return registry.get(name).tag("cluster", CLUSTER).counter().count();
    }

    private double hikariGauge(String name) {
        return registry.get(name).tag("pool", POOL).gauge().value();
    }

    private void publish(String node, int port, long epoch) throws Exception {
        admin.create()
                .orSetData()
                .creatingParentsIfNeeded()
                .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record(node, port, epoch)));
    }

    private static PrimaryRecord record(String node, int port, long epoch) {
        return new PrimaryRecord(CLUSTER, node, "127.0.0.1", port, "postgresql", epoch, Instant.now());
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
