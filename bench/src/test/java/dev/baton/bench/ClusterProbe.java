package dev.baton.bench;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.sandbox.SandboxNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;

/** What a test reads directly from the databases and from ZooKeeper, bypassing Baton's own components. */
final class ClusterProbe implements AutoCloseable {
    private final FailoverScenario scenario;
    private final CuratorFramework client;
    private final ClusterRegistry registry;

    ClusterProbe(FailoverScenario scenario) {
        this.scenario = scenario;
        this.client = RegistryClient.start(
                scenario.zooKeeper().connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
        this.registry = new ClusterRegistry(client, FailoverScenario.CLUSTER);
    }

    Optional<PrimaryRecord> primaryRecord() throws Exception {
        return registry.readPrimary().map(v -> v.value());
    }

    Optional<NodeState> nodeState(String id) throws Exception {
        return registry.readNodeStates().stream()
                .filter(s -> s.nodeId().equals(id))
                .findFirst();
    }

    List<HistoryEntry> history() throws Exception {
        return registry.readHistory();
    }

    /**
     * The history once it holds at least {@code entries} operations: an operation's entry is written after its
     * new primary is published (and the replicas repointed), so a test that saw the new record waits for it.
     */
    List<HistoryEntry> awaitHistory(int entries) {
        return org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(15))
                .until(this::history, h -> h.size() >= entries);
    }

    Connection connect(SandboxNode node) throws SQLException {
        return DriverManager.getConnection(
                node.jdbcUrl(), scenario.cluster().user(), scenario.cluster().password());
    }

    boolean inRecovery(SandboxNode node) throws SQLException {
        String value = queryString(node, "SELECT pg_is_in_recovery()");
        return value.equals("t") || value.equals("true");
    }

    String queryString(SandboxNode node, String sql) throws SQLException {
        try (Connection c = connect(node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    List<String> queryColumn(SandboxNode node, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Connection c = connect(node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }

    Set<Long> ids(SandboxNode node) throws SQLException {
        Set<Long> ids = new HashSet<>();
        for (String id : queryColumn(node, "SELECT id FROM baton_writes")) {
            ids.add(Long.parseLong(id));
        }
        return ids;
    }

    void execute(SandboxNode node, String sql) throws SQLException {
        try (Connection c = connect(node);
                Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Makes a replica stop receiving from the primary, so that it falls behind the other replicas. */
    void stopReceiving(SandboxNode replica) throws SQLException {
        if (scenario.cluster().dialect().equals("postgresql")) {
            execute(replica, "ALTER SYSTEM SET primary_conninfo = ''");
            execute(replica, "SELECT pg_reload_conf()");
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> queryString(replica, "SELECT count(*) FROM pg_stat_wal_receiver")
                            .equals("0"));
        } else {
            execute(replica, "STOP SLAVE IO_THREAD");
        }
    }

    /** Stops (or restarts) a replica applying what it receives, in either family's terms. */
    void pauseApply(SandboxNode replica, boolean pause) throws SQLException {
        boolean pg = scenario.cluster().dialect().equals("postgresql");
        execute(
                replica,
                pg
                        ? (pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()")
                        : (pause ? "STOP SLAVE SQL_THREAD" : "START SLAVE SQL_THREAD"));
    }

    /** True when {@code replica} replicates from {@code primary} right now, in either family's terms. */
    boolean replicatesFrom(SandboxNode replica, SandboxNode primary) throws SQLException {
        if (scenario.cluster().dialect().equals("postgresql")) {
            return queryColumn(primary, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")
                    .contains(replica.id());
        }
        try (Connection c = connect(replica);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            return rs.next()
                    && "Yes".equals(rs.getString("Slave_IO_Running"))
                    && "Yes".equals(rs.getString("Slave_SQL_Running"))
                    && rs.getInt("Master_Port") == primary.port();
        }
    }

    /**
     * Another client that reaches {@code node} directly (not through the orchestrator's cut link) and writes a row
     * every 20 ms until closed: a primary that applications still use keeps its replicas receiving.
     */
    AutoCloseable keepWriting(SandboxNode node) throws SQLException {
        try (Connection c = connect(node);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS baton_direct_writes (at varchar(40))");
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(
                () -> {
                    try (Connection c = connect(node);
                            Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            st.execute("INSERT INTO baton_direct_writes VALUES ('" + java.time.Instant.now() + "')");
                            Thread.sleep(20);
                        }
                    } catch (Exception e) {
                        if (!stop.get()) {
                            throw new IllegalStateException("direct writes to " + node.id() + " failed", e);
                        }
                    }
                },
                "direct-writer-" + node.id());
        writer.setDaemon(true);
        writer.start();
        return () -> {
            stop.set(true);
            writer.join(5000);
        };
    }

    /** True when the node runs as a replica: in recovery, or with a replication source configured. */
    boolean isReplica(SandboxNode node) throws SQLException {
        if (scenario.cluster().dialect().equals("postgresql")) {
            return inRecovery(node);
        }
        try (Connection c = connect(node);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW SLAVE STATUS")) {
            return rs.next();
        }
    }

    /** True when the node accepts writes (not in recovery / not read_only). */
    boolean writable(SandboxNode node) throws SQLException {
        if (scenario.cluster().dialect().equals("postgresql")) {
            return !inRecovery(node) && "off".equals(queryString(node, "SHOW default_transaction_read_only"));
        }
        return "0".equals(queryString(node, "SELECT @@read_only"));
    }

    @Override
    public void close() {
        client.close();
    }
}
