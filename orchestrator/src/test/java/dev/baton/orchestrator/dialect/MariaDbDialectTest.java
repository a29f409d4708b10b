package dev.baton.orchestrator.dialect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.registry.NodeRole;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The MariaDB dialect against a real sandbox primary and two GTID replicas. */
class MariaDbDialectTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private MariaDbSandbox sandbox;
    private ClusterConfig cluster;
    private MariaDbDialect dialect;

    @BeforeEach
    void start() throws Exception {
        sandbox = MariaDbSandbox.start(2);
        StringBuilder nodes = new StringBuilder();
        for (MariaDbNode n : sandbox.nodes()) {
            nodes.append("      - { id: ")
                    .append(n.id())
                    .append(", host: 127.0.0.1, port: ")
                    .append(n.port())
                    .append(" }\n");
        }
        String yaml = "zookeeper: { connect: \"127.0.0.1:2181\" }\n"
                + "clusters:\n"
                + "  - name: test\n"
                + "    dialect: mariadb\n"
                + "    user: " + sandbox.user() + "\n"
                + "    password: ${PW}\n"
                + "    database: baton\n"
                + "    rejoinTimeout: 10s\n"
                + "    nodes:\n" + nodes;
        cluster = new ConfigLoader(Map.of("PW", sandbox.password())::get)
                .parse(yaml, "test.yml")
                .cluster("test")
                .orElseThrow();
        dialect = (MariaDbDialect) Dialects.forCluster(cluster);
        sandbox.node("db1").sql("CREATE TABLE baton.t (id int PRIMARY KEY)");
    }

    @AfterEach
    void stop() {
        sandbox.close();
    }

    private NodeConfig node(String id) {
        return cluster.node(id).orElseThrow();
    }

    private NodeObservation observe(String id) throws SQLException {
        try (Connection c = dialect.connect(node(id), TIMEOUT)) {
            return dialect.observe(c, node(id), Instant.now());
        }
    }

    @Test
    void observesTheWritablePrimaryAndItsStreamingReplicas() throws Exception {
        sandbox.node("db1").sql("INSERT INTO baton.t VALUES (1), (2)");
        NodeObservation primary = observe("db1");
        assertThat(primary.role()).isEqualTo(NodeRole.PRIMARY);
        assertThat(primary.readOnly()).isFalse();
        assertThat(primary.received().text()).isEqualTo(sandbox.node("db1").sql("SELECT @@gtid_binlog_pos"));

        await().atMost(TIMEOUT).untilAsserted(() -> {
            NodeObservation replica = observe("db2");
            assertThat(replica.role()).isEqualTo(NodeRole.REPLICA);
            assertThat(replica.readOnly()).isTrue();
            assertThat(replica.streaming()).isTrue();
            assertThat(replica.replicaHealthy()).isTrue();
            assertThat(replica.upstream())
                    .isEqualTo("127.0.0.1:" + sandbox.node("db1").port());
            assertThat(dialect.compare(replica.received(), primary.received())).isZero();
            assertThat(dialect.distance(primary.received(), replica.applied())).isZero();
        });
    }

    @Test
    void replicaWithAStoppedSqlThreadIsUnhealthyAndItsLocalWriteIsErrant() throws Exception {
        MariaDbNode db2 = sandbox.node("db2");
        Position primaryLast = observe("db1").received();
        // a write made directly on the replica, then a conflicting one from the primary stops its SQL thread
        db2.sql("SET GLOBAL read_only = OFF; INSERT INTO baton.t VALUES (7); SET GLOBAL read_only = ON");
        NodeObservation replica = observe("db2");
        assertThat(dialect.errantCount(replica.applied(), primaryLast)).isEqualTo(1);
        assertThat(dialect.errantCount(observe("db3").applied(), primaryLast)).isZero();

        sandbox.node("db1").sql("INSERT INTO baton.t VALUES (7)");
        await().atMost(TIMEOUT).untilAsserted(() -> {
            NodeObservation broken = observe("db2");
            assertThat(broken.replicaHealthy()).isFalse();
            assertThat(broken.error()).startsWith("SQL thread stopped: ");
        });
    }

    @Test
    void switchesOverFenceCatchUpPromoteRepointRejoin() throws Exception {
        sandbox.node("db1").sql("INSERT INTO baton.t VALUES (1)");
        try (Connection client = dialect.connect(node("db1"), TIMEOUT);
                Connection old = dialect.connect(node("db1"), TIMEOUT);
                Connection target = dialect.connect(node("db2"), TIMEOUT)) {
            dialect.fence(old, Duration.ofMillis(200));
            assertThat(sandbox.node("db1").sql("SELECT @@read_only")).isEqualTo("1");
            assertThatThrownBy(() -> client.createStatement().execute("SELECT 1"))
                    .isInstanceOf(SQLException.class);

            Position last = dialect.currentPosition(old);
            assertThat(dialect.awaitPosition(target, last, Instant.now().plus(TIMEOUT)))
                    .isTrue();
            assertThat(dialect.awaitApplied(target, Instant.now().plus(TIMEOUT)))
                    .isTrue();
            dialect.promote(target, node("db2"), TIMEOUT);
            try (Connection db3 = dialect.connect(node("db3"), TIMEOUT)) {
                dialect.repoint(db3, node("db3"), node("db2"), cluster.replicationUser());
            }
            dialect.rejoin(old, node("db1"), node("db2"));

            try (Statement st = target.createStatement()) {
                st.execute("INSERT INTO baton.t VALUES (2)");
            }
        }
        NodeObservation promoted = observe("db2");
        assertThat(promoted.role()).isEqualTo(NodeRole.PRIMARY);
        assertThat(promoted.readOnly()).isFalse();
        for (String id : new String[] {"db1", "db3"}) {
            await().atMost(TIMEOUT).untilAsserted(() -> {
                NodeObservation n = observe(id);
                assertThat(n.role()).isEqualTo(NodeRole.REPLICA);
                assertThat(n.streaming()).isTrue();
                assertThat(n.readOnly()).isTrue();
                assertThat(n.upstream())
                        .isEqualTo("127.0.0.1:" + sandbox.node("db2").port());
                assertThat(sandbox.node(id).sql("SELECT COUNT(*) FROM baton.t")).isEqualTo("2");
            });
        }
    }

    @Test
    void unfenceMakesAFencedPrimaryWritableAgain() throws Exception {
        try (Connection c = dialect.connect(node("db1"), TIMEOUT)) {
            dialect.fence(c);
            assertThat(observe("db1").readOnly()).isTrue();
            dialect.unfence(c);
        }
        assertThat(observe("db1").readOnly()).isFalse();
    }

    @Test
    void awaitPositionGivesUpAtTheDeadlineWhenTheReplicaCannotGetThere() throws Exception {
        sandbox.node("db2").sql("STOP SLAVE");
        sandbox.node("db1").sql("INSERT INTO baton.t VALUES (3)");
        Position ahead;
        try (Connection p = dialect.connect(node("db1"), TIMEOUT)) {
            ahead = dialect.currentPosition(p);
        }
        try (Connection r = dialect.connect(node("db2"), Duration.ofMillis(400))) {
            Instant started = Instant.now();
            assertThat(dialect.awaitPosition(r, ahead, started.plus(Duration.ofMillis(1500))))
                    .isFalse();
            assertThat(Duration.between(started, Instant.now())).isBetween(Duration.ofMillis(1400), TIMEOUT);
        }
    }

    /**
     * A connection to {@code real}'s server whose statements run there, except that {@code SET GLOBAL read_only =
     * OFF} fails as {@code failure} says: {@code lost} runs it on the server first and then fails like a lost reply
     * (08S01), otherwise the server is not asked and the failure is a refusal (1227).
     */
    private static Connection replyOfReadOnlyOff(Connection real, boolean lost) {
        return (Connection) java.lang.reflect.Proxy.newProxyInstance(
                MariaDbDialectTest.class.getClassLoader(), new Class<?>[] {Connection.class}, (p, m, args) -> {
                    Object result = m.invoke(real, args);
                    if (!m.getName().equals("createStatement")) {
                        return result;
                    }
                    Statement st = (Statement) result;
                    return java.lang.reflect.Proxy.newProxyInstance(
                            MariaDbDialectTest.class.getClassLoader(), new Class<?>[] {Statement.class}, (q, sm, a) -> {
                                if (sm.getName().equals("execute")
                                        && String.valueOf(a[0]).contains("read_only = OFF")) {
                                    if (lost) {
                                        st.execute((String) a[0]);
                                        throw new SQLException("Communications link failure", "08S01", 0);
                                    }
                                    throw new SQLException("Access denied; you need SUPER", "42000", 1227);
                                }
                                return sm.invoke(st, a);
                            });
                });
    }

    @Test
    void aLostReplyToTheLastPromotionStepIsNotTakenForARefusal() throws Exception {
        try (Connection c = dialect.connect(node("db2"), TIMEOUT)) {
            SQLException e = assertThrows(
                    SQLException.class, () -> dialect.promote(replyOfReadOnlyOff(c, true), node("db2"), TIMEOUT));
            assertThat((Throwable) e).isNotInstanceOf(PromotionRefusedException.class);
            assertThat(e.getMessage()).contains("was lost").contains("may have been applied");
        }
        // It was applied: taking this for a refusal would let the next attempt promote a second node.
        assertThat(sandbox.node("db2").sql("SELECT @@read_only")).isEqualTo("0");
    }

    @Test
    void aServerThatSaysNoToThePromotionIsARefusal() throws Exception {
        try (Connection c = dialect.connect(node("db3"), TIMEOUT)) {
            SQLException e = assertThrows(
                    SQLException.class, () -> dialect.promote(replyOfReadOnlyOff(c, false), node("db3"), TIMEOUT));
            assertThat((Throwable) e).isInstanceOf(PromotionRefusedException.class);
        }
        assertThat(sandbox.node("db3").sql("SELECT @@read_only")).isEqualTo("1");
    }

    @Test
    void aReplicaWaitingToReconnectToARestartedPrimaryIsReconnectedAtOnce() throws Exception {
        MariaDbNode db1 = sandbox.node("db1");
        db1.kill();
        db1.start();
        // At MariaDB's default MASTER_CONNECT_RETRY (60 s) the IO thread now waits before its next attempt.
        await().atMost(TIMEOUT)
                .until(() -> sandbox.node("db2").sql("SHOW SLAVE STATUS\\G").contains("Connecting"));
        try (Connection c = dialect.connect(node("db2"), TIMEOUT)) {
            assertThat(dialect.reconnectWaitingReceiver(c)).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> observe("db2").streaming());
        try (Connection c = dialect.connect(node("db2"), TIMEOUT)) {
            assertThat(dialect.reconnectWaitingReceiver(c))
                    .as("streaming: nothing to do")
                    .isFalse();
        }
    }
}
