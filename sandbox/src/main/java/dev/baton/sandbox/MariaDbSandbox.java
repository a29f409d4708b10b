package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real local MariaDB cluster: one primary ({@code db1}) and N GTID replicas ({@code db2}, {@code db3}, ...) on free
 * loopback ports, under one temp dir that {@link #close()} removes.
 */
public final class MariaDbSandbox implements AutoCloseable {
    static final String PREFIX = "baton-mariadb-";
    static final String DATABASE = "baton";
    static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern USER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,31}");
    private static final Logger log = LoggerFactory.getLogger(MariaDbSandbox.class);

    private final Path baseDir;
    private final MariaDbBinaries binaries;
    private final String user;
    private final String password;
    private final boolean tuned;
    private final boolean requiredSettings;
    private final List<MariaDbNode> nodes = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;

    private MariaDbSandbox(Builder b) {
        this.user = b.user;
        this.password = b.password;
        this.tuned = b.tuned;
        this.requiredSettings = b.requiredSettings;
        this.binaries = MariaDbBinaries.locate();
        this.baseDir = SandboxDir.create(PREFIX);
        this.shutdownHook = SandboxDir.registerHook("mariadb-sandbox", this::close);
    }

    /** True for the labelled tuned profile: a 5 s slave_net_timeout and a 1 s connect retry, not the defaults. */
    boolean tuned() {
        return tuned;
    }

    /**
     * True (the default) when the nodes run with the settings Baton requires of a MariaDB cluster and that MariaDB
     * leaves off: {@code gtid_strict_mode} and {@code log_slave_updates} (docs/operations.md).
     */
    boolean requiredSettings() {
        return requiredSettings;
    }

    public static MariaDbSandbox start(int replicas) throws IOException {
        return builder().replicas(replicas).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    private void bootstrap(int replicas) {
        List<Integer> ports = Ports.free(replicas + 1);
        for (int i = 0; i <= replicas; i++) {
            MariaDbNode node = new MariaDbNode(this, i + 1, ports.get(i), i > 0);
            node.install();
            nodes.add(node);
        }
        MariaDbNode primary = nodes.get(0);
        primary.start();
        StringBuilder sql = new StringBuilder("CREATE DATABASE " + DATABASE + ";\n");
        String pw = password.replace("\\", "\\\\").replace("'", "\\'");
        for (String host : List.of("%", "127.0.0.1", "localhost")) {
            sql.append("CREATE USER '")
                    .append(user)
                    .append("'@'")
                    .append(host)
                    .append("' IDENTIFIED BY '")
                    .append(pw)
                    .append("';\n");
            sql.append("GRANT ALL PRIVILEGES ON *.* TO '")
                    .append(user)
                    .append("'@'")
                    .append(host)
                    .append("' WITH GRANT OPTION;\n");
        }
        primary.sql(sql.toString());
        for (MariaDbNode replica : nodes.subList(1, nodes.size())) {
            replica.start();
            replica.replicateFrom(primary);
        }
        for (MariaDbNode replica : nodes.subList(1, nodes.size())) {
            replica.awaitReplicating(Duration.ofSeconds(30));
            replica.awaitCaughtUpWith(primary, Duration.ofSeconds(30));
        }
        log.info("MariaDB sandbox up in {}: {}", baseDir, nodes);
    }

    public List<MariaDbNode> nodes() {
        return List.copyOf(nodes);
    }

    public MariaDbNode node(String id) {
        return nodes.stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id + " in this sandbox; nodes are "
                        + nodes.stream().map(MariaDbNode::id).toList()));
    }

    /** Has all privileges WITH GRANT OPTION, from '%', 127.0.0.1 and localhost; also the replication user. */
    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public Path baseDir() {
        return baseDir;
    }

    MariaDbBinaries binaries() {
        return binaries;
    }

    List<String> secrets() {
        return List.of(password);
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
        private boolean requiredSettings = true;

        private Builder() {}

        /**
         * With {@code false}, the nodes run with MariaDB's defaults for {@code gtid_strict_mode} and {@code
         * log_slave_updates} (both OFF), which Baton refuses to promote: for the tests of that refusal.
         */
        public Builder requiredSettings(boolean on) {
            this.requiredSettings = on;
            return this;
        }

        /**
         * The tuned profile, for comparison only: {@code slave_net_timeout = 5} and {@code MASTER_CONNECT_RETRY = 1}.
         * Without it every replication and timeout setting is the server's default, as on the clusters users run.
         */
        public Builder tuned(boolean tuned) {
            this.tuned = tuned;
            return this;
        }

        public Builder replicas(int replicas) {
            if (replicas < 0 || replicas > 8) {
                throw new IllegalArgumentException("replicas: " + replicas + " is not between 0 and 8");
            }
            this.replicas = replicas;
            return this;
        }

        public Builder user(String user) {
            if (user == null || !USER.matcher(user).matches() || user.equals("root")) {
                throw new IllegalArgumentException(
                        "user: '" + user + "' is not a plain user name ([A-Za-z_][A-Za-z0-9_]*, not 'root')");
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

        public MariaDbSandbox start() throws IOException {
            MariaDbSandbox sandbox = new MariaDbSandbox(this);
            try {
                sandbox.bootstrap(replicas);
                return sandbox;
            } catch (RuntimeException e) {
                try {
                    sandbox.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    /** mariadbd, mariadb-install-db and the mariadb client ($BATON_MARIADB_BIN, then /usr/sbin + /usr/bin). */
    record MariaDbBinaries(Path server, Path installDb, Path client) {
        static MariaDbBinaries locate() {
            String env = System.getenv("BATON_MARIADB_BIN");
            List<Path> dirs = new ArrayList<>();
            if (env != null && !env.isBlank()) {
                dirs.add(Path.of(env));
            }
            dirs.addAll(List.of(Path.of("/usr/sbin"), Path.of("/usr/bin"), Path.of("/usr/local/bin")));
            return new MariaDbBinaries(
                    find(dirs, "mariadbd", "mysqld"),
                    find(dirs, "mariadb-install-db", "mysql_install_db"),
                    find(dirs, "mariadb", "mysql"));
        }

        private static Path find(List<Path> dirs, String... names) {
            for (String name : names) {
                for (Path dir : dirs) {
                    if (Files.isExecutable(dir.resolve(name))) {
                        return dir.resolve(name);
                    }
                }
            }
            throw new SandboxException("cannot find " + String.join(" or ", names) + " in " + dirs
                    + " (set BATON_MARIADB_BIN to the directory holding them)");
        }
    }
}
