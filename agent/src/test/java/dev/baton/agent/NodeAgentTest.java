package dev.baton.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.AgentRecord;
import dev.baton.registry.ClientRegistration;
import dev.baton.registry.HoldRecord;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.AgentProcess;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent as operators run it: a process of its own with its own ZooKeeper session, beside real servers at their
 * defaults; crashes by SIGKILL, hangs by SIGSTOP, ZooKeeper cut off through a real TCP proxy; and clients that are
 * plain JDBC, not Baton's wrapper, where fencing is claimed.
 */
class NodeAgentTest {
    private static final String CLUSTER = "c1";

    private final List<AutoCloseable> resources = new ArrayList<>();
    private EmbeddedZooKeeper zooKeeper;
    private CuratorFramework zk;
    private Path dir;

    @BeforeEach
    void startZooKeeper() throws Exception {
        zooKeeper = EmbeddedZooKeeper.start();
        zk = RegistryClient.start(zooKeeper.connectString(), "baton", Duration.ofSeconds(6), Duration.ofSeconds(3));
        dir = Files.createTempDirectory("baton-agent-test-");
    }

    @AfterEach
    void stopAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        zk.close();
        zooKeeper.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    private <T extends AutoCloseable> T closing(T resource) {
        resources.add(resource);
        return resource;
    }

    private AgentProcess agent(String node, String zooKeeperAddress, String dialect, String server, String extra)
            throws Exception {
        Path config = dir.resolve(node + "-agent.yml");
        Files.writeString(
                config,
                "zookeeper:\n  connect: " + zooKeeperAddress + "\n"
                        + "cluster: " + CLUSTER + "\nnode: " + node + "\ndialect: " + dialect + "\n"
                        + "server:\n" + server + extra);
        return closing(AgentProcess.start(node, config, dir.resolve(node + "-agent.log")));
    }

    private AgentProcess pgAgent(PgNode node, String zooKeeperAddress, String extra) throws Exception {
        return agent(node.id(), zooKeeperAddress, "postgresql", "  dataDirectory: " + node.dataDir() + "\n", extra);
    }

    private Optional<AgentRecord> record(String node) throws Exception {
        try {
            return Optional.of(
                    RegistryJson.read(zk.getData().forPath(RegistryPaths.agent(CLUSTER, node)), AgentRecord.class));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
    }

    private AgentRecord awaitServer(String node, String server) {
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> record(node).map(r -> r.server().equals(server)).orElse(false));
        try {
            return record(node).orElseThrow();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void publishPrimary(String node, int port) throws Exception {
        PrimaryRecord r = new PrimaryRecord(CLUSTER, node, "127.0.0.1", port, "postgresql", 1, Instant.now());
        zk.create().creatingParentsIfNeeded().forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(r));
    }

    private static Connection connect(PgNode node, PostgresSandbox pg) throws SQLException {
        return DriverManager.getConnection(node.jdbcUrl(), pg.user(), pg.password());
    }

    @Test
    void killsTheBackendsAKilledPostmasterLeftRunningBeforeReportingItExited() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(0));
        PgNode primary = pg.nodes().get(0);
        primary.sql("CREATE TABLE t (id int)");
        pgAgent(primary, zooKeeper.connectString(), "");
        awaitServer(primary.id(), AgentRecord.RUNNING);

        // A plain pgjdbc client in the middle of a long statement, in a transaction it commits right after.
        Connection c = connect(primary, pg);
        long backend;
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            backend = rs.getLong(1);
        }
        CompletableFuture<Void> busy = CompletableFuture.runAsync(() -> {
            try (Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("INSERT INTO t VALUES (1)");
                s.execute("SELECT count(*) FROM generate_series(1, 300000000)");
                c.commit();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10))
                .until(() -> primary.sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE"
                                + " '%generate_series%' AND pid <> pg_backend_pid()")
                        .strip()
                        .equals("1"));

        ProcessHandle.of(primary.pid()).orElseThrow().destroyForcibly(); // the postmaster alone, as kill -9 does

        AgentRecord exited = awaitServer(primary.id(), AgentRecord.EXITED);
        // Left alone, the backend would run its statement to the end and commit: it must be gone by the report.
        // (a zombie runs nothing: its parent died, and whatever adopted it may never collect it)
        assertThat(LocalServer.state(backend))
                .as("state of backend %d after the agent reported the exit (%s)", backend, exited.detail())
                .isIn((char) 0, 'Z', 'X');
        assertThat(exited.detail()).contains("exited").contains("SIGKILLed");
        assertThat(busy).failsWithin(Duration.ofSeconds(10));
        c.close();

        primary.start();
        awaitServer(primary.id(), AgentRecord.RUNNING);
        assertThat(primary.sql("SELECT count(*) FROM t").strip()).isEqualTo("0");
    }

    @Test
    void fencesItsPrimaryForEveryClientWhenItsLeaseRunsOut() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(0));
        PgNode primary = pg.nodes().get(0);
        primary.sql("CREATE TABLE t (id int)");
        publishPrimary(primary.id(), primary.port());
        TcpProxy toZooKeeper = closing(new TcpProxy("127.0.0.1", zooKeeper.port()));
        AgentProcess agent = pgAgent(primary, "127.0.0.1:" + toZooKeeper.port(), "");
        awaitServer(primary.id(), AgentRecord.RUNNING);

        // A plain pgjdbc writer, not the wrapper: the fence has to bind it.
        AtomicLong lastCommitNanos = new AtomicLong();
        AtomicLong commits = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Connection c = connect(primary, pg);
                    Statement s = c.createStatement()) {
                while (true) {
                    s.execute("INSERT INTO t VALUES (1)");
                    lastCommitNanos.set(System.nanoTime());
                    commits.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (SQLException e) {
                // fenced
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        resources.add(() -> writer.cancel(true));
        // Connected, the agent renews its lease: three leases later its server still runs.
        await().pollDelay(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(7)).until(() -> true);
        assertThat(primary.isRunning()).isTrue();
        assertThat(record(primary.id()).orElseThrow().server()).isEqualTo(AgentRecord.RUNNING);

        long cut = System.nanoTime();
        toZooKeeper.blackhole();
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.isDone());
        long fencedAfterMs = (lastCommitNanos.get() - cut) / 1_000_000;
        assertThat(primary.isRunning()).isFalse();
        // The orchestrator waits lease + fence budget (2,500 ms) from its hold, itself after the cut: no commit after.
        assertThat(fencedAfterMs)
                .as("last commit after the cut (ms); %d commits", commits.get())
                .isLessThan(2_500);
        System.out.printf(
                "agent fenced its primary: last plain-JDBC commit %d ms after ZooKeeper was cut%n", fencedAfterMs);

        toZooKeeper.heal();
        AgentRecord fenced = awaitServer(primary.id(), AgentRecord.FENCED);
        assertThat(fenced.detail()).contains("linearizable").contains("SIGKILLed");
        assertThat(agent.isRunning()).isTrue();
    }

    @Test
    void fencesItsServerForAHoldOnItsNodeAndAcknowledgesOnlyThen() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(0));
        PgNode primary = pg.nodes().get(0);
        publishPrimary(primary.id(), primary.port());
        pgAgent(primary, zooKeeper.connectString(), "leaseTimeout: 1s\n");
        awaitServer(primary.id(), AgentRecord.RUNNING);
        await().atMost(Duration.ofSeconds(10)).until(() -> !zk.getChildren()
                .forPath(RegistryPaths.clients(CLUSTER))
                .isEmpty());
        String clientId =
                zk.getChildren().forPath(RegistryPaths.clients(CLUSTER)).get(0);
        ClientRegistration registration = RegistryJson.read(
                zk.getData().forPath(RegistryPaths.client(CLUSTER, clientId)), ClientRegistration.class);
        assertThat(registration.leaseTimeoutMs()).isEqualTo(1_500); // its lease plus the fence budget
        assertThat(registration.id()).startsWith("agent-" + primary.id());

        // A hold of another node changes nothing here.
        HoldRecord other =
                new HoldRecord("h-other", "pg9", null, 1, Instant.now(), HoldRecord.UNCONFIRMED_PRIMARY).forFence();
        zk.create().creatingParentsIfNeeded().forPath(RegistryPaths.acks(CLUSTER, "h-other"));
        zk.create().forPath(RegistryPaths.hold(CLUSTER), RegistryJson.write(other));
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(1)).until(() -> true);
        assertThat(primary.isRunning()).isTrue();
        zk.delete().forPath(RegistryPaths.hold(CLUSTER));

        // The early hold, while the orchestrator still confirms the loss: the wrappers only.
        HoldRecord hold = new HoldRecord("h1", primary.id(), null, 1, Instant.now(), HoldRecord.UNCONFIRMED_PRIMARY);
        zk.create().creatingParentsIfNeeded().forPath(RegistryPaths.acks(CLUSTER, "h1"));
        zk.create().forPath(RegistryPaths.hold(CLUSTER), RegistryJson.write(hold));
        await().pollDelay(Duration.ofMillis(700)).atMost(Duration.ofSeconds(1)).until(() -> true);
        assertThat(primary.isRunning())
                .as("a hold not marked for fencing kills nothing")
                .isTrue();
        assertThat(zk.checkExists().forPath(RegistryPaths.ack(CLUSTER, "h1", clientId)))
                .isNull();
        // The failover is due: the orchestrator marks the hold for fencing.
        long held = System.nanoTime();
        zk.setData().forPath(RegistryPaths.hold(CLUSTER), RegistryJson.write(hold.forFence()));
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> zk.checkExists().forPath(RegistryPaths.ack(CLUSTER, "h1", clientId)) != null);
        long ackMs = (System.nanoTime() - held) / 1_000_000;
        assertThat(primary.isRunning()).as("server when the agent acknowledged").isFalse();
        AgentRecord fenced = record(primary.id()).orElseThrow();
        assertThat(fenced.server()).isEqualTo(AgentRecord.FENCED);
        assertThat(fenced.detail()).contains("holds this primary");
        System.out.printf("hold → server killed and acknowledged in %d ms%n", ackMs);
    }

    @Test
    void anAgentThatDiesLeavesItsServerAloneAndItsRecordGoesWithItsSession() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(0));
        PgNode primary = pg.nodes().get(0);
        publishPrimary(primary.id(), primary.port());
        AgentProcess agent = pgAgent(primary, zooKeeper.connectString(), "");
        awaitServer(primary.id(), AgentRecord.RUNNING);
        agent.kill();
        await().atMost(Duration.ofSeconds(20)).until(() -> record(primary.id()).isEmpty());
        assertThat(primary.isRunning()).isTrue();
        assertThat(zk.getChildren().forPath(RegistryPaths.clients(CLUSTER))).isEmpty();
    }

    @Test
    void anAgentStoppedLongerThanItsSessionDoesNotFenceItsHealthyPrimaryWhenItResumes() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(0));
        PgNode primary = pg.nodes().get(0);
        publishPrimary(primary.id(), primary.port());
        AgentProcess agent = pgAgent(primary, zooKeeper.connectString(), "");
        awaitServer(primary.id(), AgentRecord.RUNNING);
        await().atMost(Duration.ofSeconds(10)).until(() -> !zk.getChildren()
                .forPath(RegistryPaths.clients(CLUSTER))
                .isEmpty());
        await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() -> true); // renewed by now
        agent.pause();
        // Its lease (2 s) and its session (6 s) run out while it is stopped; ZooKeeper stays reachable.
        await().atMost(Duration.ofSeconds(20)).until(() -> record(primary.id()).isEmpty());
        agent.resume();
        await().atMost(Duration.ofSeconds(20)).until(() -> record(primary.id()).isPresent());
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> true);
        assertThat(primary.isRunning())
                .as("primary after the agent resumed:\n%s", agent.log())
                .isTrue();
        assertThat(record(primary.id()).orElseThrow().server()).isEqualTo(AgentRecord.RUNNING);
        agent.log()
                .lines()
                .filter(l -> l.contains("NodeAgent") || l.contains("State change"))
                .forEach(System.out::println);
        assertThat(agent.log()).contains("the agent did not run for");
    }

    @Test
    void mariaDbExitIsReportedAndAFrozenServerIsKilledOnlyWithConsent() throws Exception {
        MariaDbSandbox maria = closing(MariaDbSandbox.start(0));
        MariaDbNode db = maria.nodes().get(0);
        String server = "  dataDirectory: " + db.dataDir() + "\n  pidFile: "
                + maria.baseDir().resolve(db.id() + ".pid") + "\n";
        AgentProcess watching = agent(db.id(), zooKeeper.connectString(), "mariadb", server, "");
        awaitServer(db.id(), AgentRecord.RUNNING);

        db.pause();
        awaitServer(db.id(), AgentRecord.FROZEN);
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> true);
        assertThat(db.isRunning()).as("frozen server without killHungServer").isTrue();
        db.resume();
        awaitServer(db.id(), AgentRecord.RUNNING);

        db.kill();
        assertThat(awaitServer(db.id(), AgentRecord.EXITED).detail()).contains("exited");
        watching.close();
        await().atMost(Duration.ofSeconds(20)).until(() -> record(db.id()).isEmpty());

        db.start();
        agent(db.id(), zooKeeper.connectString(), "mariadb", server, "killHungServer: true\nhungAfter: 300ms\n");
        awaitServer(db.id(), AgentRecord.RUNNING);
        db.pause();
        AgentRecord killed = awaitServer(db.id(), AgentRecord.EXITED);
        assertThat(killed.detail()).contains("frozen").contains("killHungServer");
        assertThat(db.isRunning()).isFalse();
    }

    /** What the orchestrator publishes for a node it marks needs-rejoin (role primary, fenced, unreachable or not). */
    private void markNeedsRejoin(PgNode node) throws Exception {
        dev.baton.registry.NodeState state = new dev.baton.registry.NodeState(
                node.id(),
                "127.0.0.1",
                node.port(),
                true,
                dev.baton.registry.NodeRole.PRIMARY,
                1,
                null,
                null,
                -1,
                -1,
                null,
                false,
                true,
                true,
                null,
                Instant.now(),
                null);
        zk.create()
                .creatingParentsIfNeeded()
                .forPath(RegistryPaths.node(CLUSTER, node.id()), RegistryJson.write(state));
    }

    @Test
    void aFormerPrimaryThatCannotBeRewoundIsReportedAndClonedAnewOnlyWhenAllowed() throws Exception {
        PostgresSandbox pg = closing(PostgresSandbox.start(1));
        PgNode old = pg.nodes().get(0);
        PgNode next = pg.nodes().get(1);
        // Neither wal_log_hints (PostgreSQL's default: off) nor data checksums (initdb's default: off): no pg_rewind.
        old.sql("ALTER SYSTEM SET wal_log_hints = off");
        old.stop();
        old.start();
        assertThat(old.sql("SHOW wal_log_hints").strip()).isEqualTo("off");
        old.sql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
        await().atMost(Duration.ofSeconds(20))
                .ignoreExceptions()
                .until(() -> next.sql("SELECT count(*) FROM t").strip().equals("1"));
        next.sql("SELECT pg_promote(true)");
        PrimaryRecord promoted =
                new PrimaryRecord(CLUSTER, next.id(), "127.0.0.1", next.port(), "postgresql", 2, Instant.now());
        zk.create().creatingParentsIfNeeded().forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(promoted));
        markNeedsRejoin(old);

        AgentProcess refusing = pgAgent(old, zooKeeper.connectString(), pg.agentRejoinYaml("never"));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> record(old.id()).map(r -> r.lastRejoin() != null).orElse(false));
        assertThat(record(old.id()).orElseThrow().lastRejoin())
                .contains("needs rebuild")
                .contains("wal_log_hints")
                .doesNotContain(pg.password());
        refusing.close();
        await().atMost(Duration.ofSeconds(20)).until(() -> record(old.id()).isEmpty());

        pgAgent(old, zooKeeper.connectString(), pg.agentRejoinYaml("allow"));
        await().atMost(Duration.ofSeconds(60))
                .until(() -> record(old.id()).map(r -> r.lastRejoin() != null).orElse(false));
        assertThat(record(old.id()).orElseThrow().lastRejoin()).contains("cloned anew from " + next.id());
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                return "streaming".equals(old.walReceiverStatus());
            } catch (RuntimeException e) {
                return false;
            }
        });
        next.sql("INSERT INTO t VALUES (2)");
        await().atMost(Duration.ofSeconds(20))
                .ignoreExceptions()
                .until(() -> old.sql("SELECT count(*) FROM t").strip().equals("2"));
        try (var aside = Files.list(old.dataDir().getParent())) {
            assertThat(aside.map(p -> p.getFileName().toString()))
                    .as("the old data directory is kept aside")
                    .anyMatch(n -> n.startsWith(old.dataDir().getFileName() + ".baton-"));
        }
    }
}
