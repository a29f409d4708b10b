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
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Real ZooKeeper (curator-test) and two real standalone PostgreSQL servers (sandboxes) as old and new primary. */
class FailoverDataSourceTest {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverDataSourceTest.class);
    private static final String CLUSTER = "orders";
    private static final String APP = "baton-wrapper-test";

    private static final String USER = "baton";
    private static final String PASSWORD = "wrapper-test-" + Long.toHexString(System.nanoTime());

    private static PostgresSandbox sandboxA;
    private static PostgresSandbox sandboxB;
    private static PgNode pgA;
    private static PgNode pgB;

    private EmbeddedZooKeeper zk;
    private CuratorFramework admin;
    private final List<AutoCloseable> toClose = new ArrayList<>();

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
        BatonDriver.closeAll();
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("cleanup failed", e);
            }
        }
        admin.close();
        zk.close();
    }

    @Test
    void routesBorrowsToThePublishedPrimary() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = dataSource();
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        assertThat(ds.currentPrimary()).map(PrimaryRecord::nodeId).contains("a");
        assertThat(ds.newestEpochSeen()).isEqualTo(1);
    }

    @Test
    void movesNewBorrowsToTheNewPrimaryWhenTheEpochGrows() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = dataSource();
        List<Long> seenAtNanos = new CopyOnWriteArrayList<>();
        ds.addPrimaryChangeListener(r -> seenAtNanos.add(System.nanoTime()));
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        long published = System.nanoTime();
        publish("b", pgB, 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 2);
        LOG.info("record change seen after {} µs", (seenAtNanos.get(seenAtNanos.size() - 1) - published) / 1000);
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgB.port());
        }
        assertThat(ds.currentPrimary()).map(PrimaryRecord::nodeId).contains("b");
    }

    @Test
    void connectionBorrowedFromTheOldPrimaryMovesToTheNewOneAtItsNextStatement() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = dataSource();
        Connection kept = ds.getConnection();
        assertThat(serverPort(kept)).isEqualTo(pgA.port());
        PreparedStatement prepared = kept.prepareStatement("SELECT inet_server_port()");

        publish("b", pgB, 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 2);

        try (ResultSet rs = prepared.executeQuery()) {
            rs.next();
            assertThat(rs.getInt(1)).as("prepared again on the new primary").isEqualTo(pgB.port());
        }
        assertThat(kept.isValid(1)).isTrue();
        assertThat(serverPort(kept)).isEqualTo(pgB.port());
        kept.close();
        // the old pool is closed: no session of this application is left on the old primary
        await().atMost(Duration.ofSeconds(15)).until(() -> sessionsOf(pgA) == 0);
    }

    @Test
    void ignoresARecordWithAnOlderEpoch() throws Exception {
        publish("a", pgA, 5);
        FailoverDataSource ds = dataSource();
        List<PrimaryRecord> accepted = new CopyOnWriteArrayList<>();
        ds.addPrimaryChangeListener(accepted::add);
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 5);

        publish("b", pgB, 4);
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.ignoredRecords() == 1);
        publish("b", pgB, 5); // same epoch, another node: still refused
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.ignoredRecords() == 2);

        assertThat(ds.newestEpochSeen()).isEqualTo(5);
        assertThat(ds.currentPrimary()).map(PrimaryRecord::nodeId).contains("a");
        assertThat(accepted).extracting(PrimaryRecord::nodeId).containsOnly("a"); // may hold the first record
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
    }

    @Test
    void withoutTheLeaseKeepsUsingTheLastKnownPrimaryWhenZooKeeperIsDown() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = track(
                builder().lease(false).leaseTimeout(Duration.ofMillis(300)).build());
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        zk.stop();
        // well past the lease: the data source does not care
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(ds::leaseValid);
        // force new physical connections while ZooKeeper is unreachable
        ds.currentPoolBean().orElseThrow().softEvictConnections();
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        assertThat(ds.currentPrimary()).map(PrimaryRecord::nodeId).contains("a");

        // when ZooKeeper is back, the watch resumes and a newer record is followed
        zk.restart();
        publish("b", pgB, 2);
        await().atMost(Duration.ofSeconds(20)).until(() -> ds.newestEpochSeen() == 2);
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgB.port());
        }
    }

    @Test
    void refusesAndAbortsConnectionsOnceZooKeeperIsSilentPastTheLeaseAndResumesWhenItAnswers() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = track(builder()
                .property("ApplicationName", APP)
                .leaseTimeout(Duration.ofSeconds(1))
                .hikari(c -> c.setConnectionTimeout(1000))
                .build());
        pgA.sql("CREATE TABLE IF NOT EXISTS leased (id int); GRANT ALL ON leased TO " + USER + ";");
        Connection idle = ds.getConnection();
        Connection inTransaction = ds.getConnection();
        int idlePid = backendPid(idle);
        inTransaction.setAutoCommit(false);
        try (Statement s = inTransaction.createStatement()) {
            s.executeUpdate("INSERT INTO leased VALUES (1)");
        }
        int transactionPid = backendPid(inTransaction);

        long stopped = System.nanoTime();
        zk.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> !ds.leaseValid());
        LOG.info("lease ran out {} ms after ZooKeeper stopped", (System.nanoTime() - stopped) / 1_000_000);

        SQLException borrow = assertThrows(SQLException.class, ds::getConnection);
        assertThat(borrow.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
        assertThat(borrow.getMessage()).contains("not heard from", "leaseTimeout 1000 ms");
        // the lent connections were aborted: their server sessions are gone, the open transaction rolled back
        await().atMost(Duration.ofSeconds(5)).until(() -> pgA.sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid IN (" + idlePid + ", " + transactionPid + ")")
                .equals("0"));
        SQLException lost = assertThrows(SQLException.class, () -> backendPid(inTransaction));
        assertThat(lost.getSQLState()).isEqualTo(FailoverSqlStates.TRANSACTION_LOST);
        assertThat(lost.getMessage()).contains("not heard from");
        inTransaction.rollback();
        SQLException refused = assertThrows(SQLException.class, () -> serverPort(idle));
        assertThat(refused.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
        assertThat(pgA.sql("SELECT count(*) FROM leased")).isEqualTo("0");

        zk.restart();
        await().atMost(Duration.ofSeconds(20)).until(ds::leaseValid);
        assertThat(serverPort(idle)).as("the kept connection works again").isEqualTo(pgA.port());
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        idle.close();
        inTransaction.close();
    }

    @Test
    void refusesBorrowsAfterCloseAndPerCallCredentials() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = dataSource();
        assertThrows(java.sql.SQLFeatureNotSupportedException.class, () -> ds.getConnection(USER, PASSWORD));
        assertThat(ds.unwrap(FailoverDataSource.class)).isSameAs(ds);
        ds.close();
        SQLException e = assertThrows(SQLException.class, ds::getConnection);
        assertThat(e.getMessage()).contains("closed");
        assertThat(new BatonDriver().connect("jdbc:postgresql://127.0.0.1/x", new Properties()))
                .isNull();
    }

    @Test
    void failsWithNoPrimaryNamingClusterAndPathWhenNoPrimaryIsPublished() {
        FailoverDataSource ds =
                track(builder().initialPrimaryTimeout(Duration.ofMillis(300)).build());
        SQLException e = assertThrows(SQLException.class, ds::getConnection);
        assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
        assertThat(e.getMessage())
                .contains("'orders'", "/baton/clusters/orders/primary", zk.connectString())
                .doesNotContain(PASSWORD);
    }

    @Test
    void holdsBorrowsWhileTheHoldNodeExistsAndReleasesThemToTheNewPrimary() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds =
                track(builder().holdTimeout(Duration.ofSeconds(30)).build());
        try (Connection c = ds.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(RegistryPaths.hold(CLUSTER), "{\"reason\":\"switchover\"}".getBytes());
        await().atMost(Duration.ofSeconds(5)).until(ds::isHolding);

        CompletableFuture<Integer> held = borrowPort(ds);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !held.isDone());

        long released = System.nanoTime();
        // one transaction: the hold's delete event arrives before the primary cache has fetched the new data,
        // which is the order most likely to send a released borrow to the old primary
        admin.transaction()
                .forOperations(
                        admin.transactionOp()
                                .setData()
                                .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record("b", pgB, 2))),
                        admin.transactionOp().delete().forPath(RegistryPaths.hold(CLUSTER)));
        assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo(pgB.port());
        LOG.info("held borrow completed {} ms after the release", (System.nanoTime() - released) / 1_000_000);
    }

    @Test
    void readOnlyErrorEvictsTheConnection() throws Exception {
        pgA.sql("CREATE TABLE IF NOT EXISTS fenced_probe (id int); GRANT ALL ON fenced_probe TO " + USER + ";");
        publish("a", pgA, 1);
        FailoverDataSource ds = dataSource();
        int firstPid;
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            firstPid = backendPid(c);
            s.execute("SET default_transaction_read_only = on"); // what fencing does to a session
            SQLException e =
                    assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO fenced_probe VALUES (1)"));
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NOT_RUN);
            assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("25006");
        }
        try (Connection c = ds.getConnection()) {
            assertThat(backendPid(c)).isNotEqualTo(firstPid);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO fenced_probe VALUES (2)");
            }
        }
        assertThat(ds.currentPoolBean().orElseThrow().getTotalConnections()).isEqualTo(1);
    }

    /**
     * A new primary's pool starts off the notification path: without {@code minimumIdle} at the first borrow (a data
     * source that borrows nothing in an epoch opens nothing), with it at once, in the background.
     */
    @Test
    void aPoolWithoutIdleConnectionsStartsAtTheFirstBorrowAndOneWithThemAtOnce() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource lazy = dataSourceKeepingIdle(0);
        FailoverDataSource warm = dataSourceKeepingIdle(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> lazy.newestEpochSeen() == 1 && warm.newestEpochSeen() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> warm.currentPoolBean()
                .map(b -> b.getIdleConnections() == 2)
                .orElse(false));
        assertThat(lazy.currentPoolBean()).as("no pool started before a borrow").isEmpty();
        try (Connection c = lazy.getConnection()) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        assertThat(lazy.currentPoolBean().orElseThrow().getTotalConnections()).isEqualTo(1);
    }

    @Test
    void jdbcUrlWorksThroughDriverManager() throws Exception {
        publish("a", pgA, 1);
        String url = "jdbc:baton:zk://" + zk.connectString() + "/" + CLUSTER
                + "?database=postgres&maxPoolSize=2&ApplicationName=" + APP;
        int pid;
        try (Connection c = DriverManager.getConnection(url, USER, PASSWORD)) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
            assertThat(c.getClientInfo("ApplicationName")).isEqualTo(APP);
            pid = backendPid(c);
        }
        try (Connection c = DriverManager.getConnection(url, USER, PASSWORD)) {
            assertThat(backendPid(c))
                    .as("closing returned the connection to the pool")
                    .isEqualTo(pid);
        }
        assertThat(DriverManager.getDriver(url)).isInstanceOf(BatonDriver.class);
        assertThat(DriverManager.getDriver("jdbc:postgresql://x/y")).isNotInstanceOf(BatonDriver.class);
    }

    @Test
    void malformedUrlIsRefusedWithAClearMessage() {
        SQLException e = assertThrows(
                SQLException.class,
                () -> DriverManager.getConnection(
                        "jdbc:baton:zk://" + zk.connectString() + ",zk2:notaport/" + CLUSTER + "?password=topsecret",
                        new Properties()));
        assertThat(e.getMessage())
                .contains("port 'notaport' of ZooKeeper host 'zk2:notaport'")
                .doesNotContain("topsecret");
        assertThat(new BatonDriver().acceptsURL("jdbc:postgresql://h/db")).isFalse();
    }

    @Test
    void urlErrorsThroughTheDriverNameTheParameterButNeverItsValue() {
        SQLException e = assertThrows(
                SQLException.class,
                () -> DriverManager.getConnection(
                        "jdbc:baton:zk://" + zk.connectString() + "/" + CLUSTER
                                + "?database=postgres&user=app&password=%zzSECRET",
                        new Properties()));
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage())
                .contains("parameter 'password' is not URL-encoded correctly")
                .doesNotContain("SECRET");
        assertThat(BatonDriver.cachedDataSources()).isZero();
    }

    @Test
    void passwordNeverAppearsInExceptionMessages() throws Exception {
        publish("a", pgA, 1);
        String wrong = "not-the-pw-4711";
        String url = "jdbc:baton:zk://" + zk.connectString() + "/" + CLUSTER
                + "?database=postgres&connectionTimeoutMs=1000&password=" + wrong;
        Properties info = new Properties();
        info.setProperty("user", USER);
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, info));
        LOG.info("wrong password gives: {}", e.toString());
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(wrong).doesNotContain(PASSWORD);
        }
        assertThat(e.getMessage() + e.getCause()).contains("password authentication failed");
    }

    @Test
    void wrongPasswordFailsAtOnceWith28P01InsteadOfWaitingOutTheConnectionTimeout() throws Exception {
        publish("a", pgA, 1);
        String wrong = "wrong-pw-" + Long.toHexString(System.nanoTime());
        FailoverDataSource ds = track(FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user(USER)
                .password(wrong)
                .database("postgres")
                .hikari(c -> c.setConnectionTimeout(30_000))
                .build());
        long start = System.nanoTime();
        SQLException e = assertThrows(SQLException.class, ds::getConnection);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        LOG.info("wrong password refused after {} ms: {}", tookMs, e.toString());

        assertThat(tookMs).as("well under the 30 s connectionTimeout").isLessThan(10_000);
        assertThat((Throwable) e).isInstanceOf(java.sql.SQLInvalidAuthorizationSpecException.class);
        assertThat(e.getSQLState()).isEqualTo("28P01");
        assertThat(e.getMessage()).contains("node 'a'", "SQLState 28P01", "user or password was rejected");
        assertThat(e.getCause())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");
        assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("28P01");
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(wrong).doesNotContain(PASSWORD);
        }
    }

    @Test
    void driverPropertyTheDriverRejectsFailsAtOnceWithItsSqlState() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = track(builder()
                .property("sslmode", "bogus")
                .hikari(c -> c.setConnectionTimeout(30_000))
                .build());
        long start = System.nanoTime();
        SQLException e = assertThrows(SQLException.class, ds::getConnection);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        LOG.info("sslmode=bogus refused after {} ms: {}", tookMs, e.toString());

        assertThat(tookMs).as("well under the 30 s connectionTimeout").isLessThan(10_000);
        assertThat((Throwable) e).isInstanceOf(java.sql.SQLNonTransientConnectionException.class);
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage())
                .contains("SQLState 08001", "a driver setting was refused")
                .doesNotContain("bogus");
        assertThat(e.getCause()).isInstanceOf(SQLException.class).hasMessageContaining("sslmode");
    }

    @Test
    void refusedConnectionIsStillWaitedOnUntilANewPrimaryIsPublished() throws Exception {
        // a node nobody listens on: connections are refused (08001 with a cause), which failover must wait out
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(
                        RegistryPaths.primary(CLUSTER),
                        RegistryJson.write(new PrimaryRecord(
                                CLUSTER, "dead", "127.0.0.1", deadPort, "postgresql", 1, Instant.now())));
        FailoverDataSource ds = dataSource();
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 1);
        CompletableFuture<Integer> borrow = borrowPort(ds);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !borrow.isDone());
        publish("b", pgB, 2);
        assertThat(borrow.get(10, TimeUnit.SECONDS)).isEqualTo(pgB.port());
    }

    @Test
    void failsAtOnceWhenNoPoolCanBeCreatedForThePrimary() throws Exception {
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(
                        RegistryPaths.primary(CLUSTER),
                        RegistryJson.write(
                                new PrimaryRecord(CLUSTER, "a", "127.0.0.1", pgA.port(), "oracle", 1, Instant.now())));
        FailoverDataSource ds = track(FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user(USER)
                .password(PASSWORD)
                .initialPrimaryTimeout(Duration.ofSeconds(30))
                .build());
        await().atMost(Duration.ofSeconds(5)).until(() -> ds.newestEpochSeen() == 1);
        long start = System.nanoTime();
        SQLException e = assertThrows(SQLException.class, ds::getConnection);
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage()).contains("cannot create a connection pool", "'orders'");
        assertThat(e.getCause()).hasMessageContaining("'oracle' is not supported");
    }

    @Test
    void urlThatFailedLeavesNoCachedDataSourceAndNoThreadsBehind() throws Exception {
        publish("a", pgA, 1);
        String url = "jdbc:baton:zk://" + zk.connectString() + "/" + CLUSTER + "?database=postgres";
        // Warm up: the first connection starts threads that stay whatever the wrapper does (pgjdbc's cleaner).
        try (Connection c = DriverManager.getConnection(url, USER, PASSWORD)) {
            assertThat(serverPort(c)).isEqualTo(pgA.port());
        }
        BatonDriver.closeAll();
        await().pollInSameThread().atMost(Duration.ofSeconds(15)).until(() -> wrapperThreads() == 0);
        java.util.Set<Thread> baseline = liveThreads();

        Properties wrong = new Properties();
        wrong.setProperty("user", USER);
        wrong.setProperty("password", "not-" + PASSWORD);
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, wrong));
        assertThat(e.getSQLState()).isEqualTo("28P01");

        assertThat(BatonDriver.cachedDataSources()).isZero();
        // every thread started since the baseline is gone again (the JDK's own process reapers and pools aside)
        await().pollInSameThread().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(liveThreads().stream()
                        .filter(t -> !baseline.contains(t))
                        .map(Thread::getName)
                        .filter(n -> !n.startsWith("process reaper"))
                        .toList())
                .as("threads started by the failed getConnection and still alive")
                .isEmpty());
    }

    @Test
    void urlThatNeverConnectedIsEvictedWhateverTheFailure() {
        String url = "jdbc:baton:zk://" + zk.connectString() + "/nobody?database=postgres&initialPrimaryTimeoutMs=300";
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, USER, PASSWORD));
        assertThat(e.getMessage()).contains("no primary published for cluster 'nobody'");
        assertThat(BatonDriver.cachedDataSources()).isZero();
    }

    // ---------------------------------------------------------------- helpers

    /** Live threads' names, without the in-process ZooKeeper server's workers and the JDK's shared pools. */
    private static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> !n.startsWith("NIOWorkerThread") && !n.startsWith("ForkJoinPool.commonPool"))
                .sorted()
                .toList();
    }

    private static java.util.Set<Thread> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .filter(t -> !t.getName().startsWith("NIOWorkerThread")
                        && !t.getName().startsWith("ForkJoinPool.commonPool"))
                .collect(java.util.stream.Collectors.toSet());
    }

    /** Threads of a wrapper's pools (HikariCP names them after the pool, {@code baton-<cluster>-e<epoch>}). */
    private static long wrapperThreads() {
        return threadNames().stream().filter(n -> n.startsWith("baton-")).count();
    }

    private FailoverDataSource dataSource() {
        return track(builder()
                .property("ApplicationName", APP)
                .hikari(c -> {
                    c.setMaximumPoolSize(1);
                    c.setConnectionTimeout(5000);
                })
                .build());
    }

    /** A data source with {@code maximumPoolSize 2} that keeps {@code minimumIdle} idle connections. */
    private FailoverDataSource dataSourceKeepingIdle(int minimumIdle) {
        return track(builder()
                .hikari(c -> {
                    c.setMinimumIdle(minimumIdle);
                    c.setMaximumPoolSize(2);
                })
                .build());
    }

    @Test
    void anAbortedConnectionGivesItsPlaceInThePoolBack() throws Exception {
        publish("a", pgA, 1);
        FailoverDataSource ds = track(builder()
                .hikari(c -> {
                    c.setMaximumPoolSize(2);
                    c.setConnectionTimeout(2000);
                })
                .build());
        for (int i = 0; i < 3; i++) {
            Connection c = ds.getConnection();
            c.abort(Runnable::run);
            assertThat(c.isClosed()).isTrue();
        }
        try (Connection c = ds.getConnection();
                Connection d = ds.getConnection()) {
            assertThat(c.isValid(2)).isTrue();
            assertThat(d.isValid(2)).isTrue();
        }
    }

    /** This test's cluster on the test ZooKeeper, as the test user, database postgres. */
    private FailoverDataSource.Builder builder() {
        return FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster(CLUSTER)
                .user(USER)
                .password(PASSWORD)
                .database("postgres");
    }

    private <T extends AutoCloseable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private void publish(String node, PgNode pg, long epoch) throws Exception {
        admin.create()
                .orSetData()
                .creatingParentsIfNeeded()
                .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record(node, pg, epoch)));
    }

    private static PrimaryRecord record(String node, PgNode pg, long epoch) {
        return new PrimaryRecord(CLUSTER, node, "127.0.0.1", pg.port(), "postgresql", epoch, Instant.now());
    }

    private static CompletableFuture<Integer> borrowPort(FailoverDataSource ds) {
        return CompletableFuture.supplyAsync(() -> {
            try (Connection c = ds.getConnection()) {
                return serverPort(c);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static int serverPort(Connection c) throws SQLException {
        return queryInt(c, "SELECT inet_server_port()");
    }

    private static int backendPid(Connection c) throws SQLException {
        return queryInt(c, "SELECT pg_backend_pid()");
    }

    private static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int sessionsOf(PgNode pg) {
        return Integer.parseInt(pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + APP + "'"));
    }
}
