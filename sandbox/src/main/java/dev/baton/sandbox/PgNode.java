package dev.baton.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server of a {@link PostgresSandbox}, run as a direct child process (no pg_ctl) by {@link #start()}.
 * After the sandbox's rejoin script ({@link PostgresSandbox#rejoinCommand()}) restarted it with pg_ctl, the server
 * is no child of this JVM: {@link #pid()}, {@link #kill()}, {@link #pause()} and the rest find it through
 * {@code postmaster.pid}.
 */
public final class PgNode implements SandboxNode {
    private static final String CONF_MARKER = "# ---- baton sandbox settings (rewritten by the sandbox) ----";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger log = LoggerFactory.getLogger(PgNode.class);

    private final PostgresSandbox sandbox;
    private final String id;
    private final int port;
    private final Path dataDir;
    private final ServerProcess server;

    PgNode(PostgresSandbox sandbox, String id, int port) {
        this.sandbox = sandbox;
        this.id = id;
        this.port = port;
        this.dataDir = sandbox.baseDir().resolve(id);
        this.server = new ServerProcess(
                "PostgreSQL " + id + " (port " + port + ")",
                sandbox.baseDir().resolve(id + ".log"),
                List.of(dataDir.resolve("postmaster.pid"), sandbox.socketDir().resolve(".s.PGSQL." + port + ".lock")));
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

    /** The server log (stdout and stderr of the postgres process). */
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

    @Override
    public void start() {
        server.launch(OsUser.asPostgres(List.of(bin("postgres"), "-D", dataDir.toString())));
        server.awaitReady("accept connections", START_TIMEOUT, this::acceptsConnections);
    }

    /** Fast shutdown (SIGINT): a clean stop with a shutdown checkpoint. */
    public void stop() {
        server.stop("INT", START_TIMEOUT);
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host() + ":" + port + "/postgres";
    }

    /** Runs SQL as the bootstrap superuser over the unix socket; returns psql's unaligned, tuples-only output. */
    public String sql(String sql) {
        return Exec.check(
                        List.of(
                                bin("psql"),
                                "-X",
                                "-A",
                                "-t",
                                "-q",
                                "-v",
                                "ON_ERROR_STOP=1",
                                "-h",
                                sandbox.socketDir().toString(),
                                "-p",
                                Integer.toString(port),
                                "-U",
                                PostgresSandbox.BOOTSTRAP_USER,
                                "-d",
                                "postgres"),
                        sql,
                        PostgresSandbox.TOOL_TIMEOUT,
                        sandbox.secrets())
                .strip();
    }

    /** Whether the running server is a standby ({@code pg_is_in_recovery()}). */
    public boolean isInRecovery() {
        return sql("SELECT pg_is_in_recovery()").equals("t");
    }

    /** The WAL receiver status of a standby ("streaming", "waiting", ...), or "" if it has none. */
    public String walReceiverStatus() {
        return sql("SELECT status FROM pg_stat_wal_receiver");
    }

    /**
     * Makes this node a streaming replica of {@code newPrimary}: stops it cleanly (finishing crash recovery first if
     * it was killed), rewinds it with pg_rewind, points it at the new primary with its own slot, starts it and waits
     * until it streams.
     */
    public void rejoin(PgNode newPrimary) {
        if (newPrimary == this) {
            throw new IllegalArgumentException(id + " cannot rejoin itself");
        }
        log.info("Rejoining {} as a replica of {}", id, newPrimary.id());
        stop();
        Path signal = dataDir.resolve("standby.signal");
        try {
            Files.deleteIfExists(signal);
        } catch (IOException e) {
            throw new SandboxException(id + ": cannot remove " + signal + ": " + e.getMessage(), e);
        }
        if (!shutDownCleanly()) {
            finishCrashRecovery();
        }
        newPrimary.sql("CHECKPOINT"); // the source's control file must show its new timeline
        String rewind = Exec.check(
                OsUser.asPostgres(List.of(
                        bin("pg_rewind"),
                        "--target-pgdata=" + dataDir,
                        "--source-server=host=" + sandbox.socketDir() + " port=" + newPrimary.port() + " user="
                                + PostgresSandbox.BOOTSTRAP_USER + " dbname=postgres")),
                null,
                Duration.ofMinutes(2),
                sandbox.secrets());
        log.info("{}: pg_rewind: {}", id, rewind.strip().replace('\n', ' '));
        newPrimary.sql("SELECT pg_create_physical_replication_slot('" + id + "', true) WHERE NOT EXISTS "
                + "(SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + id + "')");
        writeNodeConf(); // pg_rewind copied the source's postgresql.conf (and port)
        followPrimary(newPrimary);
        start();
        awaitStreaming(START_TIMEOUT);
    }

    /** Waits until this standby's WAL receiver is streaming. */
    public void awaitStreaming(Duration timeout) {
        server.awaitReady("stream from its primary", timeout, () -> {
            try {
                return "streaming".equals(walReceiverStatus());
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    void initPrimary() {
        Exec.check(
                OsUser.asPostgres(List.of(
                        bin("initdb"),
                        "-D",
                        dataDir.toString(),
                        "-U",
                        PostgresSandbox.BOOTSTRAP_USER,
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--encoding=UTF8",
                        "--no-locale",
                        "--no-sync")),
                null,
                PostgresSandbox.TOOL_TIMEOUT,
                sandbox.secrets());
        writeNodeConf();
        writeFile(
                dataDir.resolve("pg_hba.conf"),
                String.join(
                        "\n",
                        "# baton sandbox",
                        "local all all trust",
                        "local replication all trust",
                        "host replication all 127.0.0.1/32 trust",
                        "host all all 127.0.0.1/32 scram-sha-256",
                        ""));
    }

    void initReplicaOf(PgNode primary) {
        Exec.check(
                OsUser.asPostgres(List.of(
                        bin("pg_basebackup"),
                        "-h",
                        primary.host(),
                        "-p",
                        Integer.toString(primary.port()),
                        "-U",
                        PostgresSandbox.BOOTSTRAP_USER,
                        "-D",
                        dataDir.toString(),
                        "-X",
                        "stream",
                        "-R",
                        "-C",
                        "-S",
                        id,
                        "--checkpoint=fast",
                        "--no-sync")),
                null,
                Duration.ofMinutes(2),
                sandbox.secrets());
        writeNodeConf();
        followPrimary(primary);
    }

    /**
     * Writes {@code <baseDir>/<id>.env}: what the rejoin script needs to know about this node (data dir, port, log,
     * the file holding its sandbox settings block).
     */
    void writeRejoinEnv() {
        writeFile(
                sandbox.baseDir().resolve(id + ".env"),
                String.join(
                        "\n",
                        "# " + id + " of this PostgreSQL sandbox, for rejoin.sh",
                        "DATA=" + PostgresSandbox.shellQuote(dataDir.toString()),
                        "PORT=" + port,
                        "LOG=" + PostgresSandbox.shellQuote(logFile().toString()),
                        "CONF_BLOCK="
                                + PostgresSandbox.shellQuote(confBlockFile().toString()),
                        ""));
    }

    /** A copy of this node's sandbox settings block, outside the data dir (which pg_rewind overwrites). */
    private Path confBlockFile() {
        return sandbox.baseDir().resolve(id + ".conf");
    }

    /** Rewrites the sandbox block at the end of postgresql.conf (port and every setting the sandbox relies on). */
    private void writeNodeConf() {
        Path conf = dataDir.resolve("postgresql.conf");
        String text = read(conf);
        int marker = text.indexOf(CONF_MARKER);
        if (marker >= 0) {
            text = text.substring(0, marker);
        }
        List<String> lines = new ArrayList<>(List.of(
                CONF_MARKER,
                "listen_addresses = '127.0.0.1'",
                "port = " + port,
                "unix_socket_directories = '" + sandbox.socketDir() + "'",
                "max_connections = 100",
                "shared_buffers = '16MB'",
                "password_encryption = 'scram-sha-256'",
                "wal_level = replica",
                "max_wal_senders = 10",
                "max_replication_slots = 10",
                "wal_log_hints = on",
                "full_page_writes = on",
                "hot_standby = on",
                "wal_keep_size = '256MB'",
                "synchronous_commit = on",
                "logging_collector = off",
                "log_line_prefix = '%m [%p] " + id + " '",
                "cluster_name = '" + id + "'"));
        if (sandbox.tuned()) {
            // The labelled tuned profile; by default every replication timeout is the server's own.
            lines.addAll(List.of(
                    "wal_receiver_timeout = '5s'",
                    "wal_sender_timeout = '5s'",
                    "wal_retrieve_retry_interval = '50ms'"));
        }
        lines.add("");
        String block = String.join("\n", lines);
        writeFile(confBlockFile(), block);
        writeFile(conf, text + block);
    }

    /** Writes standby.signal and points primary_conninfo / primary_slot_name (postgresql.auto.conf) at the primary. */
    private void followPrimary(PgNode primary) {
        Path auto = dataDir.resolve("postgresql.auto.conf");
        List<String> kept = new ArrayList<>();
        for (String line : read(auto).lines().toList()) {
            String key = line.strip();
            if (!key.startsWith("primary_conninfo") && !key.startsWith("primary_slot_name")) {
                kept.add(line);
            }
        }
        kept.add("primary_conninfo = 'host=127.0.0.1 port=" + primary.port() + " user=" + PostgresSandbox.BOOTSTRAP_USER
                + " application_name=" + id + "'");
        kept.add("primary_slot_name = '" + id + "'");
        writeFile(auto, String.join("\n", kept) + "\n");
        writeFile(dataDir.resolve("standby.signal"), "");
    }

    private boolean shutDownCleanly() {
        String control = Exec.check(
                List.of(bin("pg_controldata"), "-D", dataDir.toString()),
                null,
                PostgresSandbox.TOOL_TIMEOUT,
                sandbox.secrets());
        return control.lines()
                .filter(l -> l.startsWith("Database cluster state:"))
                .anyMatch(l -> l.endsWith("shut down") || l.endsWith("shut down in recovery"));
    }

    /** Single-user mode with stdin closed replays the WAL of a crashed server and exits with a clean shutdown. */
    private void finishCrashRecovery() {
        log.info("{} was not shut down cleanly; finishing crash recovery in single-user mode", id);
        Exec.check(
                OsUser.asPostgres(List.of(bin("postgres"), "--single", "-D", dataDir.toString(), "postgres")),
                null,
                Duration.ofMinutes(2),
                sandbox.secrets());
    }

    private boolean acceptsConnections() {
        return Exec.run(
                                List.of(bin("pg_isready"), "-q", "-h", host(), "-p", Integer.toString(port), "-t", "2"),
                                null,
                                Duration.ofSeconds(10),
                                null)
                        .exitCode()
                == 0;
    }

    private String bin(String tool) {
        return sandbox.binDir().resolve(tool).toString();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new SandboxException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeFile(Path file, String text) {
        try {
            boolean created = !Files.exists(file);
            Files.writeString(file, text, StandardCharsets.UTF_8);
            if (created) {
                OsUser.giveToPostgres(file);
            }
        } catch (IOException e) {
            throw new SandboxException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return id + "@" + host() + ":" + port;
    }
}
