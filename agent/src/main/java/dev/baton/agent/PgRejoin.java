package dev.baton.agent;

import dev.baton.orchestrator.config.AgentConfig;
import dev.baton.registry.PrimaryRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Turns this host's PostgreSQL server, a former primary (or a replica past the new timeline's fork), into a streaming
 * standby of the published primary, without a script: stop it, check that pg_rewind can work (wal_log_hints or data
 * checksums, read from pg_controldata), rewind it from the new primary, keep this node's own configuration files
 * (pg_rewind copies the source's), point it at the new primary with a slot of its own, start it. Where a rewind is
 * impossible it clones the node anew when {@code reclone: allow} (the old data directory is kept aside, renamed), else
 * it reports why the node needs a rebuild. Every step that fails says which and why; a password never reaches a
 * command line (the tools get it in their environment) or a message.
 */
final class PgRejoin {
    /** Files of the node's own that pg_rewind and pg_basebackup replace with the source's. */
    private static final List<String> OWN_FILES =
            List.of("postgresql.conf", "pg_hba.conf", "pg_ident.conf", "postgresql.auto.conf");

    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(10);

    /** A rejoin that did not finish: {@code message} says which step and why. */
    static final class Failed extends Exception {
        Failed(String message) {
            super(message);
        }
    }

    private final AgentConfig config;
    private final AgentConfig.Rejoin rejoin;
    private final Path data;

    PgRejoin(AgentConfig config) {
        this.config = config;
        this.rejoin = config.rejoin();
        this.data = config.dataDirectory();
    }

    /**
     * Rejoins this node as a standby of {@code primary}; {@code serverRunning} says whether the server runs now.
     * Returns what was done, in words.
     */
    String run(PrimaryRecord primary, boolean serverRunning) throws Failed, InterruptedException {
        long start = System.nanoTime();
        if (serverRunning) {
            tool(
                    "stop the server",
                    List.of(bin("pg_ctl"), "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
        }
        String control = tool("read pg_controldata", List.of(bin("pg_controldata"), "-D", data.toString()));
        boolean hints = control.lines().anyMatch(l -> l.startsWith("wal_log_hints setting:") && l.endsWith("on"));
        boolean checksums = control.lines()
                .anyMatch(l -> l.startsWith("Data page checksum version:")
                        && !l.strip().endsWith(" 0"));
        prepareSource(primary);
        Map<String, byte[]> own = readOwnFiles();
        String how;
        if (hints || checksums) {
            String out = tool(
                    "pg_rewind from " + primary.nodeId(),
                    List.of(bin("pg_rewind"), "--target-pgdata=" + data, "--source-server=" + conninfo(primary)));
            how = "rewound from " + primary.nodeId() + " (" + summary(out) + ")";
        } else if (rejoin.reclone()) {
            Path aside = data.resolveSibling(data.getFileName() + ".baton-" + System.currentTimeMillis());
            try {
                Files.move(data, aside);
                Files.createDirectory(data);
                Files.setPosixFilePermissions(
                        data, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                giveToOsUser(data);
            } catch (IOException e) {
                throw new Failed("reclone: cannot move " + data + " aside to " + aside + ": " + e.getMessage());
            }
            tool(
                    "pg_basebackup from " + primary.nodeId(),
                    List.of(
                            bin("pg_basebackup"),
                            "-d",
                            conninfo(primary),
                            "-D",
                            data.toString(),
                            "-X",
                            "stream",
                            "--checkpoint=fast"));
            how = "cloned anew from " + primary.nodeId() + " (neither wal_log_hints nor data checksums is on, so"
                    + " pg_rewind cannot work; reclone: allow; the old data directory is kept at " + aside + ")";
        } else {
            throw new Failed("needs rebuild: pg_rewind needs wal_log_hints = on or data checksums (initdb"
                    + " --data-checksums), and neither is on in " + data + "; set reclone: allow to let the agent"
                    + " clone it anew with pg_basebackup");
        }
        writeStandbyFiles(own, primary);
        tool(
                "start the server as a standby",
                List.of(
                        bin("pg_ctl"),
                        "-D",
                        data.toString(),
                        "-l",
                        data.resolve("baton-agent-start.log").toString(),
                        "-w",
                        "-t",
                        "60",
                        "start"));
        return how + " and started as its standby in " + (System.nanoTime() - start) / 1_000_000 + " ms";
    }

    /** On the new primary: a checkpoint (its control file must show its new timeline) and this node's slot. */
    private void prepareSource(PrimaryRecord primary) throws Failed {
        Properties props = new Properties();
        props.setProperty("user", rejoin.user());
        if (rejoin.password() != null) {
            props.setProperty("password", rejoin.password());
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "60");
        String url = "jdbc:postgresql://" + primary.host() + ":" + primary.port() + "/" + rejoin.database();
        try (Connection c = DriverManager.getConnection(url, props);
                Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)"
                    + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, slot());
                ps.setString(2, slot());
                ps.execute();
            }
        } catch (SQLException e) {
            throw new Failed("preparing " + primary.nodeId() + " at " + primary.address() + " (CHECKPOINT, slot "
                    + slot() + ") failed: " + e.getMessage() + " (SQLState " + e.getSQLState() + ")");
        }
    }

    /** A physical slot name from the node id: lower case, [a-z0-9_]. */
    private String slot() {
        return config.node().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    private Map<String, byte[]> readOwnFiles() throws Failed {
        Map<String, byte[]> own = new LinkedHashMap<>();
        for (String name : OWN_FILES) {
            Path f = data.resolve(name);
            try {
                if (Files.exists(f)) {
                    own.put(name, Files.readAllBytes(f));
                }
            } catch (IOException e) {
                throw new Failed("cannot read " + f + ": " + e.getMessage());
            }
        }
        return own;
    }

    /**
     * Puts this node's own configuration back, with {@code primary_conninfo} and {@code primary_slot_name} for the new
     * primary in postgresql.auto.conf (older values of both dropped), and standby.signal.
     */
    private void writeStandbyFiles(Map<String, byte[]> own, PrimaryRecord primary) throws Failed {
        try {
            for (Map.Entry<String, byte[]> e : own.entrySet()) {
                Path f = data.resolve(e.getKey());
                Files.write(f, e.getValue());
                giveToOsUser(f);
            }
            Path auto = data.resolve("postgresql.auto.conf");
            List<String> lines = new ArrayList<>();
            if (Files.exists(auto)) {
                for (String line : Files.readAllLines(auto, StandardCharsets.UTF_8)) {
                    String key = line.strip().split("[\\s=]", 2)[0];
                    if (!key.equals("primary_conninfo") && !key.equals("primary_slot_name")) {
                        lines.add(line);
                    }
                }
            }
            String standby = conninfo(primary) + " application_name=" + slot()
                    + (rejoin.password() == null ? "" : " password=" + quoted(rejoin.password()));
            lines.add("primary_conninfo = '" + standby.replace("'", "''") + "'");
            lines.add("primary_slot_name = '" + slot() + "'");
            Files.write(auto, lines, StandardCharsets.UTF_8);
            giveToOsUser(auto);
            Files.deleteIfExists(data.resolve("recovery.signal"));
            Path signal = data.resolve("standby.signal");
            Files.write(signal, new byte[0]);
            giveToOsUser(signal);
        } catch (IOException e) {
            throw new Failed("writing the standby configuration in " + data + " failed: " + e.getMessage());
        }
    }

    /**
     * The new primary as libpq connection parameters. The password goes in only as the standby's own {@code
     * primary_conninfo} needs it (postgresql.auto.conf, readable by the server's user alone); the tools get it as
     * PGPASSWORD.
     */
    private String conninfo(PrimaryRecord primary) {
        return "host=" + primary.host() + " port=" + primary.port() + " user=" + rejoin.user() + " dbname="
                + rejoin.database();
    }

    /** A libpq parameter value in single quotes, with quotes and backslashes escaped. */
    private static String quoted(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private String bin(String tool) {
        return rejoin.binaries().resolve(tool).toString();
    }

    private void giveToOsUser(Path path) throws IOException {
        if (rejoin.osUser() == null) {
            return;
        }
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(lookup.lookupPrincipalByName(rejoin.osUser()));
        view.setGroup(lookup.lookupPrincipalByGroupName(rejoin.osUser()));
    }

    /** Runs a PostgreSQL tool as the server's OS user; returns its output, or fails naming the step. */
    private String tool(String step, List<String> command) throws Failed, InterruptedException {
        List<String> full = new ArrayList<>();
        if (rejoin.osUser() != null) {
            full.addAll(List.of(
                    "setpriv", "--reuid=" + rejoin.osUser(), "--regid=" + rejoin.osUser(), "--init-groups", "--"));
        }
        full.addAll(command);
        Path log;
        try {
            log = Files.createTempFile("baton-agent-tool-", ".log");
        } catch (IOException e) {
            throw new Failed(step + ": cannot create a file for its output: " + e.getMessage());
        }
        ProcessBuilder pb = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .directory(new java.io.File("/"));
        if (rejoin.password() != null) {
            pb.environment().put("PGPASSWORD", rejoin.password());
        }
        pb.environment().remove("PGHOST");
        pb.environment().remove("PGPORT");
        byte[] out;
        Process p;
        try {
            p = pb.start();
            if (!p.waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new Failed(step + ": did not finish within " + TOOL_TIMEOUT.toMinutes() + " min");
            }
            out = Files.readAllBytes(log);
        } catch (IOException e) {
            throw new Failed(step + ": cannot run " + command.get(0) + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // a temporary file left behind
            }
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (rejoin.password() != null) {
            text = text.replace(rejoin.password(), "****");
        }
        if (p.exitValue() != 0) {
            throw new Failed(step + " failed (exit " + p.exitValue() + "): " + summary(text));
        }
        return text;
    }

    /** The last lines of a tool's output, on one line. */
    private static String summary(String out) {
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        List<String> tail = lines.subList(Math.max(0, lines.size() - 3), lines.size());
        return String.join("; ", tail).strip();
    }
}
