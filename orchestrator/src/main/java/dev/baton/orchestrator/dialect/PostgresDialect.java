package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.registry.NodeRole;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/** PostgreSQL streaming replication: {@code pg_promote}, {@code primary_conninfo}, physical slots. */
public final class PostgresDialect implements Dialect {
    private static final String PROBE =
            """
            SELECT pg_is_in_recovery() AS in_recovery,
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
                   CASE WHEN pg_is_in_recovery() THEN NULL
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END AS current_tli,
                   pg_last_wal_receive_lsn()::text AS receive_lsn,
                   pg_last_wal_replay_lsn()::text AS replay_lsn,
                   greatest((SELECT timeline_id FROM pg_control_checkpoint()),
                            (SELECT min_recovery_end_timeline FROM pg_control_recovery())) AS control_tli,
                   current_setting('default_transaction_read_only') AS read_only,
                   CASE WHEN NOT pg_is_in_recovery()
                          OR pg_last_wal_receive_lsn() IS NULL
                          OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                        ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END AS replay_delay,
                   w.status AS receiver_status, w.sender_host, w.sender_port, w.received_tli,
                   (SELECT setting FROM pg_settings WHERE name = 'primary_conninfo') AS conninfo
              FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS w ON true
            """;

    private static final Duration SESSION_END_TIMEOUT = Duration.ofSeconds(5);

    private final ClusterConfig cluster;
    private final Map<String, Long> lastReceivedTimeline = new ConcurrentHashMap<>();

    public PostgresDialect(ClusterConfig cluster) {
        this.cluster = cluster;
    }

    @Override
    public String key() {
        return "postgresql";
    }

    @Override
    public Connection connect(NodeConfig node, Duration timeout) throws SQLException {
        int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
        Properties props = new Properties();
        props.setProperty("user", cluster.user());
        props.setProperty("password", cluster.password());
        props.setProperty("connectTimeout", Integer.toString(seconds));
        props.setProperty("loginTimeout", Integer.toString(seconds));
        props.setProperty("socketTimeout", Integer.toString(seconds + 1));
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("ApplicationName", "baton-orchestrator");
        props.setProperty("options", "-c statement_timeout=" + Math.max(1, timeout.toMillis()));
        String url = "jdbc:postgresql://" + node.host() + ":" + node.port() + "/" + cluster.database();
        return DriverManager.getConnection(url, props);
    }

    @Override
    public NodeObservation observe(Connection connection, NodeConfig node, Instant now) throws SQLException {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery(PROBE)) {
            rs.next();
            boolean inRecovery = rs.getBoolean("in_recovery");
            boolean readOnly = "on".equals(rs.getString("read_only"));
            if (!inRecovery) {
                PgPosition current = PgPosition.of(rs.getLong("current_tli"), rs.getString("current_lsn"));
                return new NodeObservation(
                        node,
                        now,
                        true,
                        null,
                        null,
                        NodeRole.PRIMARY,
                        current.timeline(),
                        current,
                        current,
                        false,
                        null,
                        0,
                        readOnly,
                        true);
            }
            String status = rs.getString("receiver_status");
            // A standby names its timeline only while its WAL receiver runs; once the primary is gone, the control
            // file's timelines can lag behind (no restartpoint since a timeline switch), so remember the last one seen.
            long receivedTli = rs.getLong("received_tli");
            long timeline = receivedTli > 0
                    ? receivedTli
                    : Math.max(rs.getLong("control_tli"), lastReceivedTimeline.getOrDefault(node.id(), 0L));
            if (receivedTli > 0) {
                lastReceivedTimeline.put(node.id(), receivedTli);
            }
            PgPosition replay = PgPosition.of(timeline, rs.getString("replay_lsn"));
            PgPosition receive = PgPosition.of(timeline, rs.getString("receive_lsn"));
            if (receive == null || (replay != null && replay.lsn() > receive.lsn())) {
                receive = replay;
            }
            // Where the replica is configured to stream from (also while its receiver is down); the live sender when
            // the setting cannot be read (it needs pg_read_all_settings).
            String upstream = conninfoAddress(rs.getString("conninfo"));
            String senderHost = rs.getString("sender_host");
            if (upstream == null && senderHost != null) {
                upstream = senderHost + ":" + rs.getInt("sender_port");
            }
            return new NodeObservation(
                    node,
                    now,
                    true,
                    null,
                    null,
                    NodeRole.REPLICA,
                    timeline,
                    receive,
                    replay,
                    "streaming".equals(status),
                    upstream,
                    rs.getDouble("replay_delay"),
                    true,
                    true);
        }
    }

    @Override
    public int compare(Position a, Position b) {
        PgPosition x = (PgPosition) a;
        PgPosition y = (PgPosition) b;
        int byTimeline = Long.compare(x.timeline(), y.timeline());
        return byTimeline != 0 ? byTimeline : Long.compareUnsigned(x.lsn(), y.lsn());
    }

    @Override
    public long distance(Position ahead, Position behind) {
        PgPosition a = (PgPosition) ahead;
        PgPosition b = (PgPosition) behind;
        if (a.timeline() != b.timeline()) {
            return -1;
        }
        return Math.max(0, a.lsn() - b.lsn());
    }

    @Override
    public boolean awaitApplied(Connection replica, Instant deadline) throws SQLException {
        return pollUntilTrue(
                replica,
                "SELECT pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()",
                deadline);
    }

    /**
     * Asks for the promotion first and clears a fence only once recovery has ended: a configuration reload that
     * reaches the startup process together with the promote request can make it sleep out
     * {@code wal_retrieve_retry_interval} (5 s by default) before it notices. The request is sent again every
     * {@value #PROMOTE_REPEAT_MS} ms while the node is still in recovery, which wakes it from that sleep too.
     *
     * @throws SQLException when the promotion has not finished within {@code timeout}: it was requested and may
     *     still finish, so the caller must keep treating this node as being promoted
     */
    @Override
    public void promote(Connection replica, NodeConfig node, Duration timeout) throws SQLException {
        try (Statement st = replica.createStatement()) {
            Instant deadline = Instant.now().plus(timeout);
            Instant nextRequest = Instant.MIN;
            while (true) {
                if (!inRecovery(st)) {
                    unfence(st);
                    return;
                }
                if (!Instant.now().isBefore(nextRequest)) {
                    try {
                        requestPromotion(st);
                    } catch (SQLException e) {
                        // class 42 (insufficient privilege): pg_promote did not run, nothing is under way
                        if (e.getSQLState() != null && e.getSQLState().startsWith("42")) {
                            throw new PromotionRefusedException(
                                    node.id() + " refused to promote: " + e.getMessage(), e);
                        }
                        throw e;
                    }
                    nextRequest = Instant.now().plusMillis(PROMOTE_REPEAT_MS);
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new SQLException("promotion of " + node.id() + " was requested but had not finished after "
                            + timeout.toMillis() + " ms; it may still finish");
                }
                // pg_promote(wait => true) checks for the end of recovery only every 100 ms; asking ourselves every
                // 5 ms saves most of that from every failover.
                pause(Duration.ofMillis(5));
            }
        }
    }

    private static final long PROMOTE_REPEAT_MS = 200;

    private static boolean inRecovery(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void requestPromotion(Statement st) throws SQLException {
        try {
            st.execute("SELECT pg_promote(false)");
        } catch (SQLException e) {
            // 55000: recovery ended between our check and the request: the next check sees it
            if (!"55000".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    @Override
    public void afterPromotion(Connection primary, List<NodeConfig> replicas) throws SQLException {
        prepareReplicas(primary, replicas);
        try (Statement st = primary.createStatement()) {
            // A checkpoint writes the new timeline into the control file, which pg_rewind reads when the old
            // primary is rejoined.
            st.execute("CHECKPOINT");
        }
    }

    @Override
    public void prepareReplicas(Connection primary, List<NodeConfig> replicas) throws SQLException {
        try (Statement st = primary.createStatement()) {
            for (NodeConfig replica : replicas) {
                String slot = slotName(replica);
                st.execute("SELECT pg_create_physical_replication_slot(" + literal(slot) + ")"
                        + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = " + literal(slot)
                        + ")");
            }
        }
    }

    @Override
    public void repoint(Connection replica, NodeConfig node, NodeConfig primary, String replicationUser)
            throws SQLException {
        String conninfo = "host=" + conninfoValue(primary.streamHost()) + " port=" + primary.streamPort() + " user="
                + conninfoValue(replicationUser) + " application_name=" + conninfoValue(node.id());
        try (Statement st = replica.createStatement()) {
            st.execute("ALTER SYSTEM SET primary_conninfo = " + literal(conninfo));
            st.execute("ALTER SYSTEM SET primary_slot_name = " + literal(slotName(node)));
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @Override
    public void fence(Connection node, Duration drain) throws SQLException {
        try (Statement st = node.createStatement()) {
            Instant deadline = Instant.now().plus(drain);
            while (Instant.now().isBefore(deadline)) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity"
                        + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                        + " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        break;
                    }
                }
                pause(Duration.ofMillis(5));
            }
            st.execute("SET default_transaction_read_only = off");
            st.execute("ALTER SYSTEM SET default_transaction_read_only = on");
            st.execute("SELECT pg_reload_conf()");
            String ended;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(string_agg(pid::text, ','), '')"
                    + " FROM (SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) AS t")) {
                rs.next();
                ended = rs.getString(1);
            }
            // pg_terminate_backend only signals: a backend in the middle of COMMIT could still write its commit
            // record and acknowledge it. Wait until every signalled backend is gone, so that the position read next
            // covers everything any client was told was committed.
            if (!ended.isEmpty()
                    && !pollUntilTrue(
                            node,
                            "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid IN (" + ended + ")",
                            Instant.now().plus(SESSION_END_TIMEOUT))) {
                throw new SQLException("client sessions " + ended + " did not end within "
                        + SESSION_END_TIMEOUT.toMillis() + " ms of being terminated");
            }
        }
    }

    @Override
    public Position currentPosition(Connection primary) throws SQLException {
        try (Statement st = primary.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text,"
                        + " ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint")) {
            rs.next();
            return PgPosition.of(rs.getLong(2), rs.getString(1));
        }
    }

    @Override
    public boolean awaitPosition(Connection replica, Position position, Instant deadline) throws SQLException {
        String lsn = PgPosition.formatLsn(((PgPosition) position).lsn());
        return pollUntilTrue(
                replica, "SELECT coalesce(pg_last_wal_replay_lsn() >= " + literal(lsn) + "::pg_lsn, false)", deadline);
    }

    /** Asks {@code sql} (one boolean) every 5 ms until it says true (returns true) or the deadline passes. */
    private static boolean pollUntilTrue(Connection c, String sql, Instant deadline) throws SQLException {
        try (Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery(sql)) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return true;
                    }
                }
                if (Instant.now().isAfter(deadline)) {
                    return false;
                }
                pause(Duration.ofMillis(5));
            }
        }
    }

    @Override
    public void rejoin(Connection connection, NodeConfig node, NodeConfig primary) throws Exception {
        String template = cluster.rejoinCommandFor(node);
        if (template == null) {
            throw new IllegalStateException("no rejoinCommand is configured for " + node.id() + " (clusters["
                    + cluster.name() + "].rejoinCommand or its node's): rebuild it as a replica of " + primary.id()
                    + " by hand");
        }
        RejoinCommand.run(RejoinCommand.render(template, node, primary), node, cluster.rejoinTimeout());
    }

    /**
     * A replica on the primary's timeline follows when it is not ahead of it; one on the timeline just before, when it
     * received nothing past the fork; anything else (a newer timeline, two switches behind, an unknown fork) needs a
     * rewind.
     */
    @Override
    public boolean canFollow(NodeObservation replica, NodeObservation primary, String fork) {
        PgPosition r = (PgPosition) replica.received();
        PgPosition p = (PgPosition) primary.received();
        if (r == null) {
            return true;
        }
        if (p == null) {
            return false;
        }
        if (replica.timeline() == primary.timeline()) {
            return Long.compareUnsigned(r.lsn(), p.lsn()) <= 0;
        }
        PgPosition f = PgPosition.parse(fork);
        return f != null
                && replica.timeline() + 1 == primary.timeline()
                && f.timeline() == replica.timeline()
                && Long.compareUnsigned(r.lsn(), f.lsn()) <= 0;
    }

    /** {@code wal_retrieve_retry_interval}: how long a repointed replica may wait before it streams again. */
    @Override
    public List<String> advice(Connection node) throws SQLException {
        try (Statement st = node.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT setting::bigint FROM pg_settings" + " WHERE name = 'wal_retrieve_retry_interval'")) {
            if (rs.next() && rs.getLong(1) > 1000) {
                return List.of("wal_retrieve_retry_interval = " + rs.getLong(1) + "ms (recommended: 1s or less):"
                        + " a replica repointed after a failover waits this long before it streams again");
            }
            return List.of();
        }
    }

    @Override
    public void unfence(Connection node) throws SQLException {
        try (Statement st = node.createStatement()) {
            unfence(st);
        }
    }

    private static void unfence(Statement st) throws SQLException {
        st.execute("SET default_transaction_read_only = off");
        st.execute("ALTER SYSTEM RESET default_transaction_read_only");
        st.execute("SELECT pg_reload_conf()");
    }

    /**
     * The {@code host:port} a {@code primary_conninfo} connection string points at (port 5432 when absent), or null
     * when it is empty or names no single host.
     */
    static String conninfoAddress(String conninfo) {
        if (conninfo == null || conninfo.isBlank()) {
            return null;
        }
        Map<String, String> values = new java.util.HashMap<>();
        int i = 0;
        int n = conninfo.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
                i++;
            }
            int eq = conninfo.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String key = conninfo.substring(i, eq).strip();
            i = eq + 1;
            while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && conninfo.charAt(i) == '\'') {
                i++;
                while (i < n && conninfo.charAt(i) != '\'') {
                    char c = conninfo.charAt(i++);
                    if (c == '\\' && i < n) {
                        c = conninfo.charAt(i++);
                    }
                    value.append(c);
                }
                i++;
            } else {
                while (i < n && !Character.isWhitespace(conninfo.charAt(i))) {
                    char c = conninfo.charAt(i++);
                    if (c == '\\' && i < n) {
                        c = conninfo.charAt(i++);
                    }
                    value.append(c);
                }
            }
            values.put(key, value.toString());
        }
        String host = values.getOrDefault("host", values.get("hostaddr"));
        if (host == null || host.isEmpty() || host.contains(",") || host.startsWith("/")) {
            return null;
        }
        String port = values.getOrDefault("port", "5432");
        return port.matches("[0-9]{1,5}") ? host + ":" + port : null;
    }

    /** The physical replication slot a node streams through: its id, lower-cased, other characters as '_'. */
    static String slotName(NodeConfig node) {
        return node.id().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    static String conninfoValue(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static void pause(Duration d) throws SQLException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the replica to apply its WAL", e);
        }
    }
}
