package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.HoldRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection the application keeps (opened once through {@code jdbc:baton:}) across a planned switchover and
 * through every failure of the exception contract, on real PostgreSQL and MariaDB servers and a real ZooKeeper.
 * The switchover is played the way the orchestrator plays it: hold, fence the old primary (read-only, sessions
 * ended), publish the new primary with a higher epoch and delete the hold in one transaction.
 */
class HeldConnectionTest {
    private static final String CLUSTER = "orders";
    private static final Map<String, TestServers> SERVERS = new HashMap<>();
    private static final AtomicLong IDS = new AtomicLong(1000);

    private TestServers db;
    private EmbeddedZooKeeper zk;
    private CuratorFramework admin;

    @AfterAll
    static void stopServers() {
        for (TestServers s : SERVERS.values()) {
            s.close();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        BatonDriver.closeAll();
        try {
            if (admin != null) {
                admin.close();
            }
            if (zk != null) {
                zk.close();
            }
        } finally {
            if (db != null) {
                if (!db.a().isRunning()) {
                    db.a().start();
                }
                db.unfence(db.a());
                db.unfence(db.b());
            }
        }
    }

    private void setUp(String dialect) throws Exception {
        db = SERVERS.get(dialect);
        if (db == null) {
            db = TestServers.start(dialect);
            SERVERS.put(dialect, db);
        }
        zk = EmbeddedZooKeeper.start();
        admin = RegistryClient.start(
                zk.connectString(), RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3));
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(db.record("a", db.a(), 1, CLUSTER)));
    }

    private Connection open(String extra) throws SQLException {
        return open(20_000, extra);
    }

    private Connection open(long holdTimeoutMs, String extra) throws SQLException {
        StringBuilder url = new StringBuilder("jdbc:baton:zk://" + zk.connectString() + "/" + CLUSTER + "?database="
                + db.database() + "&holdTimeoutMs=" + holdTimeoutMs + "&connectionTimeoutMs=1500" + extra);
        String[] props = db.driverProperties();
        for (int i = 0; i < props.length; i += 2) {
            url.append('&').append(props[i]).append('=').append(props[i + 1]);
        }
        return DriverManager.getConnection(url.toString(), TestServers.APP_USER, TestServers.APP_PASSWORD);
    }

    private void hold() throws Exception {
        admin.create().forPath(RegistryPaths.hold(CLUSTER), "{\"reason\":\"switchover\"}".getBytes());
    }

    private void publishBAndRelease() throws Exception {
        admin.transaction()
                .forOperations(
                        admin.transactionOp()
                                .setData()
                                .forPath(
                                        RegistryPaths.primary(CLUSTER),
                                        RegistryJson.write(db.record("b", db.b(), 2, CLUSTER))),
                        admin.transactionOp().delete().forPath(RegistryPaths.hold(CLUSTER)));
    }

    /** Hold, fence a, publish b, release: a planned switchover as the orchestrator does it. */
    private void switchOver() throws Exception {
        hold();
        db.fence(db.a());
        publishBAndRelease();
    }

    private void insert(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + db.table() + " VALUES (?)")) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void heldConnectionWaitsOutTheHoldAndMovesToTheNewPrimaryKeepingItsSessionState(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            boolean pg = dialect.equals("postgresql");
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            if (pg) {
                c.setSchema("kept");
            } else {
                c.setCatalog("kept");
            }
            c.setNetworkTimeout(Runnable::run, 54_321);
            c.setClientInfo(pg ? "ApplicationName" : "baton-test", "moved-app");
            PreparedStatement kept = c.prepareStatement("INSERT INTO " + db.table() + " VALUES (?)");
            long before = IDS.incrementAndGet();
            kept.setLong(1, before);
            assertThat(kept.executeUpdate()).isEqualTo(1);
            assertThat(db.port(c)).isEqualTo(db.a().port());

            hold();
            await().atMost(Duration.ofSeconds(5)).until(() -> isHolding(c));
            long during = IDS.incrementAndGet();
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try {
                    kept.setLong(1, during);
                    return kept.executeUpdate();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !held.isDone());
            db.fence(db.a());
            publishBAndRelease();
            assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo(1);

            assertThat(db.count(db.b(), during))
                    .as("the held write ran on the new primary")
                    .isEqualTo(1);
            assertThat(db.count(db.a(), during)).isZero();
            assertThat(db.port(c)).isEqualTo(db.b().port());
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(c.getNetworkTimeout()).isEqualTo(54_321);
            assertThat(c.getClientInfo(pg ? "ApplicationName" : "baton-test")).isEqualTo("moved-app");
            if (pg) {
                assertThat(TestServers.one(c, "SHOW transaction_isolation")).isEqualTo("serializable");
                assertThat(TestServers.one(c, "SELECT current_schema()")).isEqualTo("kept");
                assertThat(TestServers.one(c, "SHOW application_name")).isEqualTo("moved-app");
            } else {
                assertThat(TestServers.one(c, "SELECT @@tx_isolation")).isEqualTo("SERIALIZABLE");
                assertThat(TestServers.one(c, "SELECT DATABASE()")).isEqualTo("kept");
            }
            kept.close();
        }
    }

    /**
     * A batch of a prepared statement with ten parameters, recorded before a switchover, runs on the new primary: the
     * statement is prepared again there with every entry's parameters.
     */
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void batchRecordedBeforeASwitchoverRunsOnTheNewPrimary(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("");
                PreparedStatement ps = c.prepareStatement("INSERT INTO " + db.table()
                        + " SELECT ? FROM (SELECT 1 AS one) AS x WHERE ? + ? + ? + ? + ? + ? + ? + ? + ? = 9")) {
            long first = IDS.incrementAndGet();
            long second = IDS.incrementAndGet();
            for (long id : new long[] {first, second}) {
                ps.setLong(1, id);
                for (int i = 2; i <= 10; i++) {
                    ps.setInt(i, 1);
                }
                ps.addBatch();
            }
            switchOver();
            assertThat(ps.executeBatch()).containsExactly(1, 1);
            assertThat(db.port(c)).isEqualTo(db.b().port());
            assertThat(db.count(db.b(), first) + db.count(db.b(), second)).isEqualTo(2);
            assertThat(db.count(db.a(), first) + db.count(db.a(), second)).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void readOnlyIsKeptWhenTheConnectionMoves(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            assertThat(db.port(c)).isEqualTo(db.a().port());
            c.commit();
            switchOver();
            assertThat(db.port(c)).isEqualTo(db.b().port());
            if (dialect.equals("postgresql")) {
                assertThat(TestServers.one(c, "SHOW transaction_read_only")).isEqualTo("on");
            }
            assertThat(c.isReadOnly()).isTrue();
            assertThat(c.getAutoCommit()).isFalse();
            c.rollback();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aHoldForAnUnconfirmedPrimaryAbortsWhatWasLentToItBeforeTheNewPrimaryIsPublished(String dialect)
            throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            c.setAutoCommit(false);
            long uncommitted = IDS.incrementAndGet();
            insert(c, uncommitted);
            // The orchestrator cannot reach a and is about to replace it: it does not fence a (it cannot), it tells
            // the wrappers. The transaction lent to a must not be able to commit there any more.
            admin.create()
                    .forPath(
                            RegistryPaths.hold(CLUSTER),
                            RegistryJson.write(new dev.baton.registry.HoldRecord(
                                    "unconfirmed-1",
                                    "a",
                                    null,
                                    1,
                                    java.time.Instant.now(),
                                    dev.baton.registry.HoldRecord.UNCONFIRMED_PRIMARY)));
            await().atMost(Duration.ofSeconds(5)).until(() -> isHolding(c));
            SQLException e = assertThrows(SQLException.class, c::commit);
            assertThat(e.getSQLState()).isIn(FailoverSqlStates.TRANSACTION_LOST, FailoverSqlStates.OUTCOME_UNKNOWN);
            c.rollback();
            assertThat(db.count(db.a(), uncommitted)).as("rolled back on a").isZero();
            publishBAndRelease();
            long retried = IDS.incrementAndGet();
            insert(c, retried);
            c.commit();
            assertThat(db.count(db.b(), retried)).isEqualTo(1);
        }
    }

    /** The hold the orchestrator writes for a primary it cannot prove gone, with its acknowledgements node. */
    private HoldRecord holdUnconfirmed(String holdId) throws Exception {
        HoldRecord hold = new HoldRecord(holdId, "a", null, 1, java.time.Instant.now(), HoldRecord.UNCONFIRMED_PRIMARY);
        if (admin.checkExists().forPath(RegistryPaths.acks(CLUSTER)) == null) {
            admin.create().forPath(RegistryPaths.acks(CLUSTER));
        }
        admin.transaction()
                .forOperations(
                        admin.transactionOp().create().forPath(RegistryPaths.acks(CLUSTER, holdId)),
                        admin.transactionOp().create().forPath(RegistryPaths.hold(CLUSTER), RegistryJson.write(hold)));
        return hold;
    }

    private java.util.List<String> children(String path) throws Exception {
        return admin.checkExists().forPath(path) == null
                ? java.util.List.of()
                : admin.getChildren().forPath(path);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void everyDataSourceAcknowledgesAnUnconfirmedHoldOnlyAfterAbortingWhatItLentThere(String dialect) throws Exception {
        setUp(dialect);
        try (Connection kept = open("");
                Connection other = open("&connectTimeout=10")) {
            kept.setAutoCommit(false);
            long uncommitted = IDS.incrementAndGet();
            insert(kept, uncommitted);
            insert(other, IDS.incrementAndGet());
            // Each data source registered itself on its own session: the orchestrator waits for each of them.
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> children(RegistryPaths.clients(CLUSTER)).size() == 2);
            java.util.List<String> registered = children(RegistryPaths.clients(CLUSTER));
            holdUnconfirmed("unconfirmed-1-a");
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> new java.util.HashSet<>(children(RegistryPaths.acks(CLUSTER, "unconfirmed-1-a")))
                            .containsAll(registered));
            // Acknowledged: the transaction lent to a cannot commit there any more, and nothing new goes there.
            SQLException e = assertThrows(SQLException.class, kept::commit);
            assertThat(e.getSQLState()).isIn(FailoverSqlStates.TRANSACTION_LOST, FailoverSqlStates.OUTCOME_UNKNOWN);
            kept.rollback();
            assertThat(db.count(db.a(), uncommitted)).as("rolled back on a").isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aHoldOfAPrimaryNotProvenGoneNeverExpiresBackIntoIt(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open(1000, "")) {
            insert(c, IDS.incrementAndGet());
            holdUnconfirmed("unconfirmed-1-b");
            await().atMost(Duration.ofSeconds(5)).until(() -> isHolding(c));
            long refused = IDS.incrementAndGet();
            // Twice past holdTimeout (1 s): a switchover's hold would let the write through to a by now.
            for (int i = 0; i < 2; i++) {
                SQLException e = assertThrows(SQLException.class, () -> insert(c, refused));
                assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
                assertThat(e.getMessage()).contains("cannot prove gone");
            }
            assertThat(db.count(db.a(), refused))
                    .as("nothing reached the held primary")
                    .isZero();
            publishBAndRelease();
            insert(c, refused);
            assertThat(db.count(db.b(), refused)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void transactionCaughtByTheSwitchoverFailsOnceWithTransactionLostAndItsRetrySucceeds(String dialect)
            throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            c.setAutoCommit(false);
            long first = IDS.incrementAndGet();
            insert(c, first);
            switchOver();
            SQLException e = assertThrows(SQLException.class, () -> insert(c, IDS.incrementAndGet()));
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.TRANSACTION_LOST);
            assertThat((Throwable) e).isInstanceOf(java.sql.SQLTransactionRollbackException.class);
            assertThat(e.getMessage()).contains("rolled back", "retry", "node 'a'");
            c.rollback();

            insert(c, first); // the retried transaction
            c.commit();
            assertThat(db.count(db.b(), first)).isEqualTo(1);
            assertThat(db.count(db.a(), first)).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void sessionStateSetWithSqlFailsTheMoveInsteadOfBeingLost(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("");
                Statement s = c.createStatement()) {
            s.execute(dialect.equals("postgresql") ? "SET search_path = kept, public" : "SET @tenant = 42");
            switchOver();
            SQLException e = assertThrows(SQLException.class, () -> TestServers.one(c, "SELECT 1"));
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.SESSION_LOST);
            assertThat(e.getMessage()).contains("session setting", "open a new one");
            SQLException again = assertThrows(SQLException.class, () -> TestServers.one(c, "SELECT 1"));
            assertThat(again.getSQLState()).isEqualTo(FailoverSqlStates.SESSION_LOST);
        }
        try (Connection fresh = open("")) {
            assertThat(db.port(fresh)).isEqualTo(db.b().port());
        }
    }

    // ---------------------------------------------------------------- the exception contract, row by row

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void fencedNodeWithoutASwitchoverFailsAWriteAsNotRunNeverRaw(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            insert(c, IDS.incrementAndGet());
            readOnly(db.a());
            long id = IDS.incrementAndGet();
            SQLException e = assertThrows(SQLException.class, () -> insert(c, id));
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NOT_RUN);
            assertThat((Throwable) e).isInstanceOf(java.sql.SQLTransientConnectionException.class);
            assertThat(e.getMessage()).contains("refused writes", "did not run");
            SQLException server = (SQLException) e.getCause();
            if (dialect.equals("postgresql")) {
                assertThat(server.getSQLState()).isEqualTo("25006");
            } else {
                assertThat(server.getErrorCode()).isIn(1290, 1836);
            }
            writable(db.a());
            insert(c, id); // the retry, on the same connection
            assertThat(db.count(db.a(), id)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void fencedWriteInAutocommitIsRunOnTheNewPrimaryWithoutAnError(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            insert(c, IDS.incrementAndGet());
            // the fence reaches the node before this wrapper sees the hold: the write is refused, never ran
            readOnly(db.a());
            long id = IDS.incrementAndGet();
            CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
                try {
                    insert(c, id);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(100); // the write meets the read-only node before the hold appears
            hold();
            db.endSessions(db.a());
            publishBAndRelease();
            write.get(10, TimeUnit.SECONDS);
            assertThat(db.count(db.b(), id)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void endedSessionMapsToTheContractAndTheConnectionRecovers(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            insert(c, IDS.incrementAndGet());
            db.endSessions(db.a());
            SQLException read = assertThrows(SQLException.class, () -> TestServers.one(c, "SELECT 1"));
            assertThat(read.getSQLState()).isEqualTo(FailoverSqlStates.NOT_RUN);
            assertThat(TestServers.one(c, "SELECT 2")).isEqualTo("2");

            db.endSessions(db.a());
            SQLException write = assertThrows(SQLException.class, () -> insert(c, IDS.incrementAndGet()));
            assertThat(write.getSQLState()).isEqualTo(FailoverSqlStates.OUTCOME_UNKNOWN);
            assertThat((Throwable) write).isInstanceOf(java.sql.SQLRecoverableException.class);
            assertThat(write.getMessage()).contains("may or may not have committed");

            c.setAutoCommit(false);
            insert(c, IDS.incrementAndGet());
            db.endSessions(db.a());
            SQLException tx = assertThrows(SQLException.class, () -> insert(c, IDS.incrementAndGet()));
            assertThat(tx.getSQLState()).isEqualTo(FailoverSqlStates.TRANSACTION_LOST);
            c.rollback();
            long id = IDS.incrementAndGet();
            insert(c, id);
            c.commit();
            assertThat(db.count(db.a(), id)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void keptPreparedStatementTakesNewParametersAfterItsConnectionFailed(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("");
                PreparedStatement ps = c.prepareStatement("INSERT INTO " + db.table() + " VALUES (?)")) {
            ps.setLong(1, IDS.incrementAndGet());
            ps.executeUpdate();
            db.endSessions(db.a());
            ps.setLong(1, IDS.incrementAndGet());
            assertThrows(SQLException.class, ps::executeUpdate);
            long id = IDS.incrementAndGet();
            ps.setLong(1, id); // the physical statement is closed: recorded, bound where the connection moves
            assertThat(ps.executeUpdate()).isEqualTo(1);
            assertThat(db.count(db.a(), id)).isEqualTo(1);
        }
    }

    /** Runs {@code call} on another thread, ends the application's sessions on a while it runs, returns its failure. */
    private SQLException endedWhileRunning(Connection c, java.util.concurrent.Callable<?> call) throws Exception {
        insert(c, IDS.incrementAndGet());
        CompletableFuture<SQLException> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                call.call();
                return null;
            } catch (SQLException e) {
                return e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(500); // the statement is running on the server
        db.endSessions(db.a());
        SQLException e = inFlight.get(10, TimeUnit.SECONDS);
        assertThat((Throwable) e).isNotNull();
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql"}) // Connector/J refuses an INSERT in executeQuery before sending it (S1009)
    void aWriteSentWithExecuteQueryWhoseReplyIsLostMayHaveCommitted(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("");
                Statement s = c.createStatement()) {
            long id = IDS.incrementAndGet();
            SQLException e = endedWhileRunning(c, () -> s.executeQuery(db.slowInsert(id, 3) + " RETURNING id"));
            // Not "never ran, safe to retry" (08R01): an INSERT ... RETURNING is a write, whatever method sent it.
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.OUTCOME_UNKNOWN);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void aReadSentWithExecuteWhoseReplyIsLostNeverRan(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("");
                PreparedStatement ps =
                        c.prepareStatement(dialect.equals("postgresql") ? "SELECT pg_sleep(3)" : "SELECT SLEEP(3)")) {
            SQLException e = endedWhileRunning(c, ps::execute);
            // A SELECT commits nothing: safe to retry, whatever method sent it.
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.NOT_RUN);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void warningsAndObjectFactoriesOpenNoTransactionThatWouldPinTheConnection(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            c.setAutoCommit(false);
            c.getWarnings();
            c.clearWarnings();
            if (dialect.equals("postgresql")) {
                c.createArrayOf("int4", new Object[] {1}).free(); // pgjdbc has no createBlob
            } else {
                c.createBlob().free(); // Connector/J has no createArrayOf
            }
            switchOver();
            long id = IDS.incrementAndGet();
            insert(c, id); // a new transaction: it moves to b instead of failing with 40R01
            c.commit();
            assertThat(db.count(db.b(), id)).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void killedPrimaryGivesOutcomeUnknownForTheWriteInFlightThenNoPrimary(String dialect) throws Exception {
        setUp(dialect);
        try (Connection c = open("")) {
            insert(c, IDS.incrementAndGet());
            long id = IDS.incrementAndGet();
            CompletableFuture<SQLException> inFlight = CompletableFuture.supplyAsync(() -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate(db.slowInsert(id, 3));
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            Thread.sleep(500); // the write is running on the server
            db.a().kill();
            SQLException e = inFlight.get(10, TimeUnit.SECONDS);
            assertThat((Throwable) e).isNotNull();
            assertThat(e.getSQLState()).isEqualTo(FailoverSqlStates.OUTCOME_UNKNOWN);

            SQLException none = assertThrows(SQLException.class, () -> TestServers.one(c, "SELECT 1"));
            assertThat(none.getSQLState()).isEqualTo(FailoverSqlStates.NO_PRIMARY);
            assertThat((Throwable) none).isInstanceOf(java.sql.SQLTransientConnectionException.class);
            assertThat(none.getMessage()).contains("node 'a'", "within");

            // the failover: b is published, the same connection goes on there
            admin.setData()
                    .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(db.record("b", db.b(), 2, CLUSTER)));
            await().atMost(Duration.ofSeconds(10))
                    .ignoreExceptions()
                    .until(() -> db.port(c) == db.b().port());
        }
    }

    /**
     * The first half of the fence. PostgreSQL's reload reaches the sessions asynchronously (postmaster, then SIGHUP
     * to each backend): wait until a new session sees it, then give the signal a moment.
     */
    private void readOnly(SandboxNode node) throws InterruptedException {
        if (db.dialect.equals("postgresql")) {
            db.sql(node, "ALTER SYSTEM SET default_transaction_read_only = on; SELECT pg_reload_conf();");
            await().atMost(Duration.ofSeconds(5)).until(() -> db.sql(node, "SHOW default_transaction_read_only")
                    .equals("on"));
            Thread.sleep(200);
        } else {
            db.sql(node, "SET GLOBAL read_only = ON");
        }
    }

    /** Undoes {@link #readOnly}, waiting the same way for PostgreSQL's reload to reach the sessions. */
    private void writable(SandboxNode node) throws InterruptedException {
        db.unfence(node);
        if (db.dialect.equals("postgresql")) {
            await().atMost(Duration.ofSeconds(5)).until(() -> db.sql(node, "SHOW default_transaction_read_only")
                    .equals("off"));
            Thread.sleep(200);
        }
    }

    private static boolean isHolding(Connection c) {
        return BatonDriver.cached().stream().anyMatch(FailoverDataSource::isHolding);
    }
}
