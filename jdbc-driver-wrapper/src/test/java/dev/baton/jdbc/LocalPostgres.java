package dev.baton.jdbc;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * One standalone PostgreSQL 15 server for these tests: a stand-in until {@code dev.baton.sandbox} lands.
 * Runs as the {@code postgres} OS user (tests run as root), in a temporary directory, on a free port.
 */
final class LocalPostgres implements AutoCloseable {
    private static final String BIN = "/usr/lib/postgresql/15/bin/";
    static final String USER = "baton";
    static final String PASSWORD = "s3cret-pw-" + Long.toHexString(System.nanoTime());

    private final Path dir;
    private final int port;
    private final Process process;

    private LocalPostgres(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    static LocalPostgres start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("baton-jdbc-pg");
        Path data = dir.resolve("data");
        Path pwfile = dir.resolve("pw");
        Files.writeString(pwfile, PASSWORD + "\n");
        run(List.of("chown", "-R", "postgres:postgres", dir.toString()), dir);
        run(
                asPostgres(
                        BIN + "initdb",
                        "-D",
                        data.toString(),
                        "-U",
                        USER,
                        "--pwfile=" + pwfile,
                        "-A",
                        "scram-sha-256",
                        "-E",
                        "UTF8",
                        "--no-sync"),
                dir);
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(asPostgres(
                BIN + "postgres",
                "-D",
                data.toString(),
                "-p",
                String.valueOf(port),
                "-k",
                dir.toString(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50"));
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile());
        LocalPostgres pg = new LocalPostgres(dir, port, pb.start());
        try {
            Awaitility.await("PostgreSQL on port " + port)
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .ignoreExceptions()
                    .until(() -> {
                        DriverManager.getConnection(pg.jdbcUrl(), USER, PASSWORD)
                                .close();
                        return true;
                    });
        } catch (RuntimeException e) {
            pg.close();
            throw e;
        }
        return pg;
    }

    int port() {
        return port;
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    void execute(String sql) throws SQLException {
        try (var c = DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
                var s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM: smart shutdown
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            // best effort: a temp directory
        }
    }

    private static List<String> asPostgres(String... command) {
        List<String> full =
                new ArrayList<>(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
        full.addAll(List.of(command));
        return full;
    }

    private static void run(List<String> command, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("setup.log").toFile())
                .start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(
                    command.get(5 < command.size() ? 5 : 0) + " failed: " + Files.readString(dir.resolve("setup.log")));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
