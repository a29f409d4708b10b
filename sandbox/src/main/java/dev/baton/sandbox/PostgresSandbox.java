package dev.baton.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real local PostgreSQL cluster: one primary ({@code pg1}) and N streaming replicas ({@code pg2}, {@code pg3}, ...)
 * with physical replication slots, on free loopback ports, under one temp dir that {@link #close()} removes.
 */
public final class PostgresSandbox implements AutoCloseable {
    static final String PREFIX = "baton-pg-";
    static final String BOOTSTRAP_USER = "postgres";
    static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    static final String REJOIN_SCRIPT = "rejoin.sh";
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Logger log = LoggerFactory.getLogger(PostgresSandbox.class);

    private final Path baseDir;
    private final Path binDir;
    private final Path socketDir;
    private final String user;
    private final String password;
    private final boolean tuned;
    private final List<PgNode> nodes = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private PostgresSandbox(Builder b) {
        this.user = b.user;
        this.password = b.password;
        this.tuned = b.tuned;
        this.binDir = PgBinaries.locate();
        this.baseDir = SandboxDir.create(PREFIX);
        this.shutdownHook = SandboxDir.registerHook("postgres-sandbox", this::close);
        this.socketDir = baseDir.resolve("sock");
        OsUser.giveToPostgres(baseDir);
    }

    /** A primary and {@code replicas} streaming replicas with the default user, password and timeouts. */
    public static PostgresSandbox start(int replicas) throws IOException {
        return builder().replicas(replicas).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    private void bootstrap(int replicas) throws IOException {
        Files.createDirectories(socketDir);
        OsUser.giveToPostgres(socketDir);
        writeRejoinScript();
        List<Integer> ports = Ports.free(replicas + 1);
        PgNode primary = new PgNode(this, "pg1", ports.get(0));
        nodes.add(primary);
        primary.writeRejoinEnv();
        primary.initPrimary();
        primary.start();
        String escaped = password.replace("'", "''");
        primary.sql("SET log_min_error_statement = panic;\nCREATE ROLE \"" + user + "\" SUPERUSER LOGIN PASSWORD '"
                + escaped + "';");
        for (int i = 1; i <= replicas; i++) {
            PgNode replica = new PgNode(this, "pg" + (i + 1), ports.get(i));
            nodes.add(replica);
            replica.writeRejoinEnv();
            replica.initReplicaOf(primary);
            replica.start();
        }
        for (PgNode replica : nodes.subList(1, nodes.size())) {
            replica.awaitStreaming(Duration.ofSeconds(30));
        }
        log.info("PostgreSQL sandbox up in {}: {}", baseDir, describe());
    }

    private String describe() {
        StringBuilder sb = new StringBuilder();
        for (PgNode n : nodes) {
            sb.append(n.id())
                    .append('@')
                    .append(n.port())
                    .append(" pid ")
                    .append(n.pid())
                    .append(' ');
        }
        return sb.toString().strip();
    }

    /**
     * The shell command template that turns a node into a streaming standby of a promoted primary, for an
     * orchestrator's {@code rejoinCommand}: {@code '<baseDir>/rejoin.sh' {node} {primaryHost} {primaryPort}}. Run with
     * {@code /bin/sh -c} after each placeholder is replaced by its single-quoted value; as root (it switches to user
     * postgres for the PostgreSQL tools) or as the user that runs this JVM. It stops the node (finishing crash recovery
     * of a killed one), pg_rewinds it from the new primary (over the shared unix socket dir), points it at the new
     * primary with slot {@code {node}}, starts it with pg_ctl and exits 0 once it streams, or non-zero with
     * {@code rejoin <node>: <what failed>} on stderr. The restarted server is no child of this JVM; {@link PgNode}
     * finds it through {@code postmaster.pid}.
     */
    public String rejoinCommand() {
        return shellQuote(baseDir.resolve(REJOIN_SCRIPT).toString())
                + " {node} {primaryHost} {primaryPort} {primaryNode}";
    }

    /**
     * The {@code rejoin} section of a {@code baton agent} configuration for this sandbox: its superuser, its tools, the
     * postgres OS user when this JVM is root, and {@code reclone} (never or allow).
     */
    public String agentRejoinYaml(String reclone) {
        return "rejoin:\n  user: " + user + "\n  password: \"" + password + "\"\n  binaries: " + binDir + "\n"
                + (OsUser.isRoot() ? "  osUser: " + OsUser.POSTGRES + "\n" : "") + "  reclone: " + reclone + "\n";
    }

    /** All nodes; index 0 is the initial primary. */
    public List<PgNode> nodes() {
        return List.copyOf(nodes);
    }

    public PgNode node(String id) {
        return nodes.stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id + " in this sandbox; nodes are "
                        + nodes.stream().map(PgNode::id).toList()));
    }

    /** A SUPERUSER role with a password, for scram-sha-256 TCP connections. */
    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public Path baseDir() {
        return baseDir;
    }

    public Path binDir() {
        return binDir;
    }

    Path socketDir() {
        return socketDir;
    }

    /** True for the labelled tuned profile: short replication timeouts instead of the server's defaults. */
    boolean tuned() {
        return tuned;
    }

    List<String> secrets() {
        return List.of(password);
    }

    /** {@code value} single-quoted for a POSIX shell. */
    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    /** rejoin.sh (mode 0755) and sandbox.env (the binaries and socket dir it uses) in the base dir. */
    private void writeRejoinScript() throws IOException {
        Files.writeString(
                baseDir.resolve("sandbox.env"),
                "# this PostgreSQL sandbox, for " + REJOIN_SCRIPT + "\nBIN=" + shellQuote(binDir.toString()) + "\nSOCK="
                        + shellQuote(socketDir.toString()) + "\n",
                StandardCharsets.UTF_8);
        Path script = baseDir.resolve(REJOIN_SCRIPT);
        try (InputStream in = PostgresSandbox.class.getResourceAsStream("pg-rejoin.sh")) {
            if (in == null) {
                throw new SandboxException("resource dev/baton/sandbox/pg-rejoin.sh is missing from the classpath");
            }
            Files.write(script, in.readAllBytes());
        }
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Kills every server this sandbox started, waits until they are gone and deletes {@link #baseDir()}. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        SandboxDir.tearDown(nodes, baseDir, shutdownHook);
    }

    public static final class Builder {
        private int replicas = 2;
        private String user = "baton";
        private String password = "baton-sandbox-secret";
        private boolean tuned;

        private Builder() {}

        public Builder replicas(int replicas) {
            if (replicas < 0 || replicas > 8) {
                throw new IllegalArgumentException("replicas: " + replicas + " is not between 0 and 8");
            }
            this.replicas = replicas;
            return this;
        }

        public Builder user(String user) {
            if (user == null || !IDENTIFIER.matcher(user).matches() || user.equals(BOOTSTRAP_USER)) {
                throw new IllegalArgumentException(
                        "user: '" + user + "' is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, not 'postgres')");
            }
            this.user = user;
            return this;
        }

        public Builder password(String password) {
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("password: must not be empty");
            }
            this.password = password;
            return this;
        }

        /**
         * The tuned profile, for comparison only: {@code wal_receiver_timeout} and {@code wal_sender_timeout} of 5 s
         * and a {@code wal_retrieve_retry_interval} of 50 ms. Without it every replication and timeout setting is the
         * server's default, as on the clusters users run.
         */
        public Builder tuned(boolean tuned) {
            this.tuned = tuned;
            return this;
        }

        public PostgresSandbox start() throws IOException {
            PostgresSandbox sandbox = new PostgresSandbox(this);
            try {
                sandbox.bootstrap(replicas);
                return sandbox;
            } catch (IOException | RuntimeException e) {
                try {
                    sandbox.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
