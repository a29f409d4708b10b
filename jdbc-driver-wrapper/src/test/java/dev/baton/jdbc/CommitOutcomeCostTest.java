package dev.baton.jdbc;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What commit outcome resolution costs per write: one thread, one kept connection, a single primary at the server's
 * defaults (synchronous_commit / innodb_flush_log_at_trx_commit on), rounds alternating between a data source
 * without and one with {@code resolveCommitOutcome}. Prints the median and the fastest of the rounds' mean latencies (the fastest is the cost with the least
 * interference from other processes on a shared machine). Run with
 * {@code ./mvnw -B -q -o -pl jdbc-driver-wrapper -am verify -Dtest=CommitOutcomeCostTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dbaton.measure=true}; numbers in docs/wrapper.md.
 */
@EnabledIfSystemProperty(named = "baton.measure", matches = "true")
class CommitOutcomeCostTest {
    private static final int ROUNDS = 21;
    private static final int WRITES = 500;

    @Test
    void postgresql() throws Exception {
        try (PostgresSandbox pg = PostgresSandbox.start(0)) {
            pg.nodes().get(0).sql("CREATE TABLE cost (id bigint PRIMARY KEY)");
            measure("postgresql", pg.nodes().get(0), pg.user(), pg.password(), "postgres");
        }
    }

    @Test
    void mariadb() throws Exception {
        try (MariaDbSandbox maria = MariaDbSandbox.start(0)) {
            maria.nodes().get(0).sql("CREATE TABLE baton.cost (id bigint PRIMARY KEY)");
            measure("mariadb", maria.nodes().get(0), maria.user(), maria.password(), "baton");
        }
    }

    private static void measure(String dialect, SandboxNode node, String user, String password, String database)
            throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start();
                CuratorFramework admin = RegistryClient.start(
                        zk.connectString(),
                        RegistryPaths.DEFAULT_NAMESPACE,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(3))) {
            admin.create()
                    .creatingParentsIfNeeded()
                    .forPath(
                            RegistryPaths.primary("cost"),
                            RegistryJson.write(new PrimaryRecord(
                                    "cost", node.id(), "127.0.0.1", node.port(), dialect, 1, Instant.now())));
            try (FailoverDataSource plain = dataSource(zk, user, password, database, false);
                    FailoverDataSource resolving = dataSource(zk, user, password, database, true);
                    Connection a = plain.getConnection();
                    Connection b = resolving.getConnection()) {
                long[] next = {1};
                for (String kind : List.of("autocommit insert", "transaction of 2 inserts + commit")) {
                    boolean tx = kind.startsWith("transaction");
                    run(a, tx, next, WRITES); // warm-up
                    run(b, tx, next, WRITES);
                    List<Double> without = new ArrayList<>();
                    List<Double> with = new ArrayList<>();
                    for (int r = 0; r < ROUNDS; r++) {
                        without.add(run(a, tx, next, WRITES));
                        with.add(run(b, tx, next, WRITES));
                    }
                    double off = median(without);
                    double on = median(with);
                    double offMin = Collections.min(without);
                    double onMin = Collections.min(with);
                    System.out.printf(
                            "COST %s | %s | median without %.0f us, with %.0f us (%+.0f us) | fastest round without"
                                    + " %.0f us, with %.0f us (%+.0f us)%n",
                            dialect, kind, off, on, on - off, offMin, onMin, onMin - offMin);
                }
            }
        }
    }

    private static FailoverDataSource dataSource(
            EmbeddedZooKeeper zk, String user, String password, String database, boolean resolve) {
        FailoverDataSource.Builder b = FailoverDataSource.builder()
                .zookeeper(zk.connectString())
                .cluster("cost")
                .user(user)
                .password(password)
                .database(database)
                .resolveCommitOutcome(resolve);
        if (!database.equals("postgres")) {
            b.property("sslMode", "DISABLED").property("allowPublicKeyRetrieval", "true");
        }
        return b.build();
    }

    /** Mean microseconds per write (or per transaction) over {@code n}. */
    private static double run(Connection c, boolean tx, long[] next, int n) throws SQLException {
        c.setAutoCommit(!tx);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO cost VALUES (?)")) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                ps.setLong(1, next[0]++);
                ps.executeUpdate();
                if (tx) {
                    ps.setLong(1, next[0]++);
                    ps.executeUpdate();
                    c.commit();
                }
            }
            return (System.nanoTime() - start) / 1000.0 / n;
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
