package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commit outcome resolution under a real crash: several threads commit through kept connections (autocommit writes
 * and two-statement transactions), the primary is killed with SIGKILL, the most advanced replica is promoted and
 * published with a higher epoch, as the orchestrator does. Every answer is then checked against the new primary: a
 * write resolved as committed is there, one answered "not committed" (08R04) or with any other contract error is not.
 * A write acknowledged before the kill may be missing: replication is asynchronous, that is the failover's data loss.
 */
class CommitOutcomeTest {
    private static final Logger LOG = LoggerFactory.getLogger(CommitOutcomeTest.class);
    private static final String CLUSTER = "orders";
    private static final int THREADS = 4;
    private static final String APP_PASSWORD = "app-secret-" + Long.toHexString(System.nanoTime());

    /** What each write was answered with. */
    enum Answer {
        OK,
        RESOLVED_COMMITTED,
        NOT_COMMITTED,
        UNKNOWN,
        OTHER_ERROR
    }

    @Test
    void postgresAnswersEveryInFlightCommitAndEveryAnswerHoldsOnTheNewPrimary() throws Exception {
        try (PgCluster cluster = new PgCluster()) {
            Map<Answer, Set<Long>> answers = crashWhileCommitting(cluster);
            assertThat(answers.get(Answer.UNKNOWN))
                    .as("PostgreSQL resolves every lost acknowledgment")
                    .isEmpty();
            assertThat(answers.get(Answer.NOT_COMMITTED).size()
                            + answers.get(Answer.RESOLVED_COMMITTED).size())
                    .as("lost acknowledgments resolved")
                    .isPositive();
        }
    }

    /**
     * Whether any commit in flight is resolved depends on the timing (a GTID past the mark may be another session's):
     * this asserts the answers given are true;
     * {@link #answersNotCommittedForTheWriteInFlightWhenThePrimaryDiesOrRunsItAgainWhenAsked}
     * asserts that one is given.
     */
    @Test
    void mariaDbNeverAnswersNotCommittedForAWriteTheNewPrimaryHas() throws Exception {
        try (MariaCluster cluster = new MariaCluster()) {
            crashWhileCommitting(cluster);
        }
    }

    @ParameterizedTest
    @CsvSource({"postgresql,false", "mariadb,false", "postgresql,true", "mariadb,true"})
    void answersNotCommittedForTheWriteInFlightWhenThePrimaryDiesOrRunsItAgainWhenAsked(String dialect, boolean retry)
            throws Exception {
        ExecutorService app = Executors.newSingleThreadExecutor();
        try (Cluster cluster = dialect.equals("postgresql") ? new PgCluster() : new MariaCluster();
                Registry registry = new Registry()) {
            registry.publish(cluster.record(cluster.primary(), 1));
            try (FailoverDataSource ds = cluster.dataSource(registry.connectString(), retry);
                    Connection c = ds.getConnection();
                    Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + cluster.table() + " VALUES (1)");
                Future<Integer> slow = app.submit(() -> s.executeUpdate(cluster.slowInsert(2)));
                await().atMost(Duration.ofSeconds(10)).until(cluster::slowInsertRunning);
                cluster.primary().kill();
                SandboxNode promoted = cluster.promoteMostAdvanced();
                registry.publish(cluster.record(promoted, 2));
                if (retry) {
                    assertThat(slow.get(60, TimeUnit.SECONDS))
                            .as("run again on the new primary")
                            .isEqualTo(1);
                    assertThat(cluster.ids(promoted)).contains(2L);
                    return;
                }
                ExecutionException e = assertThrows(ExecutionException.class, () -> slow.get(60, TimeUnit.SECONDS));
                SQLException answer = (SQLException) e.getCause();
                assertThat(answer.getSQLState()).as(answer.getMessage()).isEqualTo(FailoverSqlStates.NOT_COMMITTED);
                assertThat(answer.getMessage()).contains("safe to retry");
                assertThat(cluster.ids(promoted)).doesNotContain(2L);
                assertThat(s.executeUpdate("INSERT INTO " + cluster.table() + " VALUES (2)"))
                        .as("the retry, on the new primary")
                        .isEqualTo(1);
                assertThat(cluster.ids(promoted)).contains(2L);
            }
        } finally {
            app.shutdownNow();
        }
    }

    /**
     * A statement the application marked idempotent (with the SQL hint or {@link BatonStatement#setIdempotent}) is in
     * flight in autocommit when the primary dies: without outcome resolution its outcome is unknown (08007), so Baton
     * runs it again on the new primary and returns its result. The same statement opening a transaction of the
     * application's is not run again.
     */
    @ParameterizedTest
    @CsvSource({"postgresql,hint", "mariadb,hint", "postgresql,api", "mariadb,api", "postgresql,in-transaction"})
    void anIdempotentStatementInFlightWhenThePrimaryDiesRunsAgainOnTheNewPrimary(String dialect, String marking)
            throws Exception {
        ExecutorService app = Executors.newSingleThreadExecutor();
        try (Cluster cluster = dialect.equals("postgresql") ? new PgCluster() : new MariaCluster();
                Registry registry = new Registry()) {
            registry.publish(cluster.record(cluster.primary(), 1));
            try (FailoverDataSource ds =
                            cluster.builder(registry.connectString()).build();
                    Connection c = ds.getConnection();
                    Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + cluster.table() + " VALUES (1)");
                String insert = cluster.idempotent(cluster.slowInsert(2));
                PreparedStatement ps = c.prepareStatement(
                        marking.equals("api") ? insert : BatonStatement.IDEMPOTENT_HINT + " " + insert);
                if (marking.equals("api")) {
                    ps.unwrap(BatonStatement.class).setIdempotent(true);
                    assertThat(ps.unwrap(BatonStatement.class).isIdempotent()).isTrue();
                }
                if (marking.equals("in-transaction")) {
                    c.setAutoCommit(false);
                }
                Future<Integer> slow = app.submit(() -> ps.executeUpdate());
                await().atMost(Duration.ofSeconds(10)).until(cluster::slowInsertRunning);
                cluster.primary().kill();
                SandboxNode promoted = cluster.promoteMostAdvanced();
                registry.publish(cluster.record(promoted, 2));
                if (marking.equals("in-transaction")) {
                    ExecutionException e = assertThrows(ExecutionException.class, () -> slow.get(60, TimeUnit.SECONDS));
                    SQLException answer = (SQLException) e.getCause();
                    assertThat(answer.getSQLState()).as(answer.getMessage()).isEqualTo(FailoverSqlStates.NOT_RUN);
                    assertThat(cluster.ids(promoted)).doesNotContain(2L);
                    return;
                }
                assertThat(slow.get(60, TimeUnit.SECONDS))
                        .as("run again on the new primary instead of failing with 08007")
                        .isEqualTo(1);
                assertThat(cluster.ids(promoted)).contains(2L);
                assertThat(serverPort(c)).isEqualTo(promoted.port());
            }
        } finally {
            app.shutdownNow();
        }
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery(
                        c.getMetaData().getDatabaseProductName().contains("PostgreSQL")
                                ? "SELECT inet_server_port()"
                                : "SELECT @@port")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** A ZooKeeper server and the primary record, published as the orchestrator does (a higher epoch each time). */
    private static final class Registry implements AutoCloseable {
        private final EmbeddedZooKeeper zk;
        private final CuratorFramework admin;

        Registry() throws Exception {
            zk = EmbeddedZooKeeper.start();
            admin = RegistryClient.start(
                    zk.connectString(), RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3));
        }

        String connectString() {
            return zk.connectString();
        }

        void publish(PrimaryRecord record) throws Exception {
            String path = RegistryPaths.primary(CLUSTER);
            if (admin.checkExists().forPath(path) == null) {
                admin.create().creatingParentsIfNeeded().forPath(path, RegistryJson.write(record));
            } else {
                admin.setData().forPath(path, RegistryJson.write(record));
            }
        }

        @Override
        public void close() throws Exception {
            try {
                admin.close();
            } finally {
                zk.close();
            }
        }
    }

    /** Runs the writers, kills the primary, promotes and publishes; asserts every answer on the new primary. */
    private Map<Answer, Set<Long>> crashWhileCommitting(Cluster cluster) throws Exception {
        Map<Answer, Set<Long>> answers = new ConcurrentHashMap<>();
        for (Answer a : Answer.values()) {
            answers.put(a, ConcurrentHashMap.newKeySet());
        }
        AtomicLong ids = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger afterPublish = new AtomicInteger();
        AtomicBoolean published = new AtomicBoolean();
        ExecutorService writers = Executors.newFixedThreadPool(THREADS);
        try (Registry registry = new Registry()) {
            registry.publish(cluster.record(cluster.primary(), 1));
            try (FailoverDataSource ds = cluster.dataSource(registry.connectString(), false)) {
                List<Future<?>> running = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    running.add(writers.submit(() -> {
                        write(ds, cluster.table(), ids, stop, answers, published, afterPublish);
                        return null;
                    }));
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> answers.get(Answer.OK).size() > 300);
                SandboxNode old = cluster.primary();
                old.kill();
                long handedOutUntilDead = ids.get();
                SandboxNode promoted = cluster.promoteMostAdvanced();
                registry.publish(cluster.record(promoted, 2));
                published.set(true);
                await().atMost(Duration.ofSeconds(60)).until(() -> afterPublish.get() >= 20 * THREADS);
                stop.set(true);
                for (Future<?> f : running) {
                    f.get(60, TimeUnit.SECONDS);
                }
                Set<Long> present = cluster.ids(promoted);
                Map<Answer, Integer> counts = answers.entrySet().stream()
                        .collect(Collectors.toMap(
                                Map.Entry::getKey, e -> e.getValue().size()));
                LOG.info("{}: answers {}", cluster.getClass().getSimpleName(), counts);
                System.out.println(cluster.getClass().getSimpleName() + " answers: " + counts);
                // Replication is asynchronous: a write acknowledged just before the kill may not have reached any
                // replica. That is the failover's data loss (the orchestrator estimates it), not a wrong answer.
                List<Long> lostAcknowledged = answers.get(Answer.OK).stream()
                        .filter(id -> !present.contains(id))
                        .sorted()
                        .toList();
                System.out.println(cluster.getClass().getSimpleName() + " acknowledged writes lost by asynchronous"
                        + " replication: " + lostAcknowledged + " (ids handed out until the old primary was gone: "
                        + handedOutUntilDead
                        + ")");
                assertThat(lostAcknowledged)
                        .as("only writes acknowledged by the old primary can be lost")
                        .allMatch(id -> id <= handedOutUntilDead);
                assertThat(answers.get(Answer.RESOLVED_COMMITTED))
                        .as("resolved as committed")
                        .isSubsetOf(present);
                assertThat(answers.get(Answer.NOT_COMMITTED))
                        .as("answered not committed, yet on the new primary")
                        .filteredOn(present::contains)
                        .isEmpty();
                assertThat(answers.get(Answer.OTHER_ERROR))
                        .as(
                                "answered with another contract error (never ran, transaction lost), yet on the new primary")
                        .filteredOn(present::contains)
                        .isEmpty();
                return answers;
            }
        } finally {
            stop.set(true);
            writers.shutdownNow();
            writers.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /**
     * One writer on one kept connection: autocommit inserts and transactions of two inserts (ids n and -n), in turn,
     * until told to stop; every id is filed under its answer.
     */
    private static void write(
            FailoverDataSource ds,
            String table,
            AtomicLong ids,
            AtomicBoolean stop,
            Map<Answer, Set<Long>> answers,
            AtomicBoolean published,
            AtomicInteger afterPublish)
            throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement insert = c.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
            while (!stop.get()) {
                long id = ids.incrementAndGet();
                boolean transaction = id % 2 == 0;
                Answer answer;
                try {
                    c.setAutoCommit(!transaction);
                    insert.setLong(1, id);
                    insert.executeUpdate();
                    if (transaction) {
                        insert.setLong(1, -id);
                        insert.executeUpdate();
                        c.commit();
                    }
                    SQLWarning w = c.getWarnings();
                    answer = w != null && FailoverSqlStates.RESOLVED_COMMITTED.equals(w.getSQLState())
                            ? Answer.RESOLVED_COMMITTED
                            : Answer.OK;
                    c.clearWarnings();
                    if (published.get()) {
                        afterPublish.incrementAndGet();
                    }
                } catch (SQLException e) {
                    answer = switch (String.valueOf(e.getSQLState())) {
                        case FailoverSqlStates.NOT_COMMITTED -> Answer.NOT_COMMITTED;
                        case FailoverSqlStates.OUTCOME_UNKNOWN -> Answer.UNKNOWN;
                        default -> Answer.OTHER_ERROR;
                    };
                    LOG.info("write {} answered {}: {}", id, e.getSQLState(), e.getMessage());
                    if (transaction) {
                        c.rollback();
                    }
                }
                answers.get(answer).add(id);
            }
        }
    }

    /** A primary and two replicas of one dialect, an application account and table, failover as Baton does it. */
    private interface Cluster extends AutoCloseable {
        SandboxNode primary();

        String dialect();

        default String table() {
            return "outcome";
        }

        /** The database the application account writes to. */
        String database();

        /** The application's data source, without commit outcome resolution. */
        default FailoverDataSource.Builder builder(String zookeeper) {
            return FailoverDataSource.builder()
                    .zookeeper(zookeeper)
                    .cluster(CLUSTER)
                    .user("app")
                    .password(APP_PASSWORD)
                    .database(database())
                    .hikari(c -> c.setConnectionTimeout(20_000));
        }

        default FailoverDataSource dataSource(String zookeeper, boolean retryNotCommitted) {
            return builder(zookeeper)
                    .resolveCommitOutcome(true)
                    .retryNotCommitted(retryNotCommitted)
                    .build();
        }

        /** Promotes the replica that received the most and makes it writable for the application. */
        SandboxNode promoteMostAdvanced();

        /** An autocommit insert of {@code id} that takes about 3 s on the server. */
        String slowInsert(long id);

        /** {@code insert} made idempotent: a row that is there already is left alone. */
        String idempotent(String insert);

        /** True while {@link #slowInsert} (idempotent or not, hinted or not) runs on the primary. */
        boolean slowInsertRunning();

        /** The ids of every row on {@code node} (transaction rows count by their positive id). */
        Set<Long> ids(SandboxNode node);

        default PrimaryRecord record(SandboxNode node, long epoch) {
            return new PrimaryRecord(CLUSTER, node.id(), "127.0.0.1", node.port(), dialect(), epoch, Instant.now());
        }

        @Override
        void close();
    }

    static Set<Long> parseIds(String psqlOutput) {
        Set<Long> ids = ConcurrentHashMap.newKeySet();
        Arrays.stream(psqlOutput.split("\\s+"))
                .filter(s -> !s.isBlank())
                .map(Long::parseLong)
                .forEach(id -> {
                    if (id > 0) {
                        ids.add(id);
                    }
                });
        return ids;
    }

    private static final class PgCluster implements Cluster {
        private final PostgresSandbox sandbox;

        PgCluster() throws Exception {
            sandbox = PostgresSandbox.start(2);
            try {
                sandbox.nodes()
                        .get(0)
                        .sql("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "';"
                                + " CREATE TABLE outcome (id bigint PRIMARY KEY); GRANT ALL ON outcome TO app;");
            } catch (RuntimeException e) {
                sandbox.close();
                throw e;
            }
        }

        @Override
        public SandboxNode primary() {
            return sandbox.nodes().get(0);
        }

        @Override
        public String dialect() {
            return "postgresql";
        }

        @Override
        public String database() {
            return "postgres";
        }

        @Override
        public SandboxNode promoteMostAdvanced() {
            PgNode best = null;
            long bestLsn = -1;
            for (PgNode replica : sandbox.nodes().subList(1, 3)) {
                long received = CommitOutcome.parseLsn(replica.sql("SELECT pg_last_wal_receive_lsn()"));
                if (received > bestLsn) {
                    best = replica;
                    bestLsn = received;
                }
            }
            best.sql("SELECT pg_promote()");
            return best;
        }

        @Override
        public String slowInsert(long id) {
            return "INSERT INTO outcome SELECT " + id + " FROM pg_sleep(3)";
        }

        @Override
        public String idempotent(String insert) {
            return insert + " ON CONFLICT DO NOTHING";
        }

        @Override
        public boolean slowInsertRunning() {
            return !sandbox.nodes()
                    .get(0)
                    .sql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%INSERT INTO outcome SELECT%'"
                            + " AND pid <> pg_backend_pid()")
                    .isBlank();
        }

        @Override
        public Set<Long> ids(SandboxNode node) {
            return parseIds(((PgNode) node).sql("SELECT id FROM outcome"));
        }

        @Override
        public void close() {
            sandbox.close();
        }
    }

    private static final class MariaCluster implements Cluster {
        private final MariaDbSandbox sandbox;

        MariaCluster() throws Exception {
            sandbox = MariaDbSandbox.start(2);
            try {
                sandbox.nodes()
                        .get(0)
                        .sql("CREATE TABLE baton.outcome (id bigint PRIMARY KEY);"
                                + " CREATE USER app@'%' IDENTIFIED BY '" + APP_PASSWORD + "';"
                                + " GRANT SELECT, INSERT ON baton.* TO app@'%';");
            } catch (RuntimeException e) {
                sandbox.close();
                throw e;
            }
        }

        @Override
        public SandboxNode primary() {
            return sandbox.nodes().get(0);
        }

        @Override
        public String dialect() {
            return "mariadb";
        }

        @Override
        public String database() {
            return "baton";
        }

        @Override
        public FailoverDataSource.Builder builder(String zookeeper) {
            return Cluster.super
                    .builder(zookeeper)
                    .property("sslMode", "DISABLED")
                    .property("allowPublicKeyRetrieval", "true");
        }

        /** Waits for each replica to apply what it received, then promotes the one with the highest GTID. */
        @Override
        public SandboxNode promoteMostAdvanced() {
            MariaDbNode best = null;
            long bestSeq = -1;
            for (MariaDbNode replica : sandbox.nodes().subList(1, 3)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    Map<String, String> status = replica.slaveStatus();
                    return CommitOutcome.seqOf(replica.sql("SELECT @@gtid_slave_pos"), 0)
                            >= CommitOutcome.seqOf(status.get("Gtid_IO_Pos"), 0);
                });
                long seq = CommitOutcome.seqOf(replica.sql("SELECT @@gtid_slave_pos"), 0);
                if (seq > bestSeq) {
                    best = replica;
                    bestSeq = seq;
                }
            }
            best.sql("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF;");
            return best;
        }

        @Override
        public String slowInsert(long id) {
            return "INSERT INTO outcome SELECT " + id + " FROM DUAL WHERE SLEEP(3) = 0";
        }

        @Override
        public String idempotent(String insert) {
            return insert.replaceFirst("^INSERT INTO", "INSERT IGNORE INTO");
        }

        @Override
        public boolean slowInsertRunning() {
            return !sandbox.nodes()
                    .get(0)
                    .sql("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%INTO outcome SELECT%'"
                            + " AND ID <> CONNECTION_ID()")
                    .isBlank();
        }

        @Override
        public Set<Long> ids(SandboxNode node) {
            return parseIds(((MariaDbNode) node).sql("SELECT id FROM baton.outcome"));
        }

        @Override
        public void close() {
            sandbox.close();
        }
    }
}
