package dev.baton.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/** One mariadbd of a {@link MariaDbSandbox}, run as a direct child process. */
public final class MariaDbNode implements SandboxNode {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final MariaDbSandbox sandbox;
    private final String id;
    private final int serverId;
    private final int port;
    private final boolean replica;
    private final Path dataDir;
    private final Path socket;
    private final ServerProcess server;

    MariaDbNode(MariaDbSandbox sandbox, int serverId, int port, boolean replica) {
        this.sandbox = sandbox;
        this.id = "db" + serverId;
        this.serverId = serverId;
        this.port = port;
        this.replica = replica;
        this.dataDir = sandbox.baseDir().resolve(id);
        this.socket = sandbox.baseDir().resolve(id + ".sock");
        this.server = new ServerProcess(
                "MariaDB " + id + " (port " + port + ")", sandbox.baseDir().resolve(id + ".log"));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The file the server writes its pid to ({@code --pid-file}). */
    public Path pidFile() {
        return sandbox.baseDir().resolve(id + ".pid");
    }

    /** The server log (its stderr: the error log). */
    public Path logFile() {
        return server.logFile();
    }

    @Override
    public long pid() {
        return server.pid();
    }

    @Override
    public boolean isRunning() {
        return server.isRunning();
    }

    @Override
    public void kill() {
        server.kill();
    }

    @Override
    public void pause() {
        server.signalTree("STOP");
    }

    @Override
    public void resume() {
        server.signalTree("CONT");
    }

    /** Starts with the options of its initial role (replicas read_only=ON); replication resumes by itself. */
    @Override
    public void start() {
        List<String> cmd = new ArrayList<>(List.of(
                sandbox.binaries().server().toString(),
                "--no-defaults",
                "--log-basename=" + id,
                "--datadir=" + dataDir,
                "--port=" + port,
                "--bind-address=127.0.0.1",
                "--socket=" + socket,
                "--pid-file=" + pidFile(),
                "--server-id=" + serverId,
                "--log-bin",
                "--binlog-format=ROW",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M",
                "--performance-schema=OFF",
                "--relay-log-recovery=ON",
                "--report-host=127.0.0.1",
                "--report-port=" + port,
                "--max-connections=200",
                "--read-only=" + (replica ? "ON" : "OFF")));
        if (sandbox.requiredSettings()) {
            // what Baton requires of a MariaDB cluster (docs/operations.md); both are OFF by default
            cmd.add("--log-slave-updates");
            cmd.add("--gtid-strict-mode=ON");
        }
        if (sandbox.tuned()) {
            cmd.add("--slave-net-timeout=5"); // the labelled tuned profile; the server's default is 60 s
        }
        if (OsUser.isRoot()) {
            cmd.add("--user=root");
        }
        server.launch(cmd);
        server.awaitReady("accept connections", START_TIMEOUT, () -> {
            try {
                return Exec.run(clientCommand(), "SELECT 1", Duration.ofSeconds(5), null)
                        .ok();
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /** A clean shutdown (SIGTERM). */
    public void stop() {
        server.stop("TERM", START_TIMEOUT);
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:mysql://" + host() + ":" + port + "/" + MariaDbSandbox.DATABASE;
    }

    /** Runs SQL as root over the unix socket; returns the client's tab-separated output without column names. */
    public String sql(String sql) {
        return Exec.check(clientCommand(), sql, MariaDbSandbox.TOOL_TIMEOUT, sandbox.secrets())
                .strip();
    }

    /** {@code SHOW SLAVE STATUS} as a map (empty if this node is not a replica). */
    public Map<String, String> slaveStatus() {
        List<String> cmd = new ArrayList<>(clientCommand());
        cmd.remove("-N");
        cmd.add("-E");
        String out = Exec.check(cmd, "SHOW SLAVE STATUS", MariaDbSandbox.TOOL_TIMEOUT, sandbox.secrets());
        return out.lines()
                .map(String::strip)
                .filter(l -> l.indexOf(':') > 0 && !l.startsWith("*"))
                .collect(Collectors.toMap(
                        l -> l.substring(0, l.indexOf(':')),
                        l -> l.substring(l.indexOf(':') + 1).strip(),
                        (a, b) -> b));
    }

    void install() {
        // Its own temp dir: parallel installs in one /tmp collide on the bootstrap's temporary tables.
        Path tmp = sandbox.baseDir().resolve(id + "-tmp");
        try {
            Files.createDirectories(tmp);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + tmp, e);
        }
        List<String> cmd = new ArrayList<>(List.of(
                sandbox.binaries().installDb().toString(),
                "--no-defaults",
                "--datadir=" + dataDir,
                "--tmpdir=" + tmp,
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--innodb-log-file-size=16M"));
        if (OsUser.isRoot()) {
            cmd.add("--user=root");
        }
        Exec.check(cmd, null, MariaDbSandbox.TOOL_TIMEOUT, sandbox.secrets());
    }

    /** Points this node at {@code primary} (GTID slave_pos, the sandbox user) and starts replicating. */
    public void replicateFrom(MariaDbNode primary) {
        if (primary == this) {
            throw new IllegalArgumentException(id + " cannot replicate from itself");
        }
        String pw = sandbox.password().replace("\\", "\\\\").replace("'", "\\'");
        sql("STOP SLAVE;\nCHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + primary.port() + ", MASTER_USER='"
                + sandbox.user() + "', MASTER_PASSWORD='" + pw + "', MASTER_USE_GTID=slave_pos"
                + (sandbox.tuned() ? ", MASTER_CONNECT_RETRY=1" : "") + ";\nSTART SLAVE;");
    }

    /** Waits until Slave_IO_Running and Slave_SQL_Running are both Yes. */
    public void awaitReplicating(Duration timeout) {
        AtomicReference<Map<String, String>> last = new AtomicReference<>(Map.of());
        try {
            server.awaitReady("replicate (Slave_IO_Running and Slave_SQL_Running = Yes)", timeout, () -> {
                Map<String, String> status = slaveStatus();
                last.set(status);
                return "Yes".equals(status.get("Slave_IO_Running")) && "Yes".equals(status.get("Slave_SQL_Running"));
            });
        } catch (SandboxException e) {
            Map<String, String> s = last.get();
            throw new SandboxException(
                    String.format(
                            "%s; Slave_IO_Running=%s Last_IO_Error=%s Slave_SQL_Running=%s Last_SQL_Error=%s",
                            e.getMessage(),
                            s.get("Slave_IO_Running"),
                            s.get("Last_IO_Error"),
                            s.get("Slave_SQL_Running"),
                            s.get("Last_SQL_Error")),
                    e);
        }
    }

    void awaitCaughtUpWith(MariaDbNode primary, Duration timeout) {
        String target = primary.sql("SELECT @@gtid_binlog_pos");
        server.awaitReady("reach the primary's GTID " + target, timeout, () -> sql("SELECT @@gtid_slave_pos")
                .equals(target));
    }

    private List<String> clientCommand() {
        return List.of(
                sandbox.binaries().client().toString(),
                "--no-defaults",
                "-uroot",
                "--socket=" + socket,
                "--connect-timeout=5",
                "-N",
                "-B");
    }

    @Override
    public String toString() {
        return id + "@" + host() + ":" + port;
    }
}
