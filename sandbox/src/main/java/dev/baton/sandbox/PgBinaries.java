package dev.baton.sandbox;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** Finds the PostgreSQL server binaries: $BATON_PG_BIN, then {@code pg_config --bindir}, then /usr/lib/postgresql. */
final class PgBinaries {
    static final String ENV = "BATON_PG_BIN";

    private PgBinaries() {}

    static Path locate() {
        List<String> tried = new ArrayList<>();
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            Path dir = Path.of(env);
            if (hasPostgres(dir)) {
                return dir;
            }
            tried.add("$" + ENV + "=" + env + " (no executable postgres there)");
        } else {
            tried.add("$" + ENV + " (not set)");
        }
        try {
            Exec.Result r = Exec.run(List.of("pg_config", "--bindir"), null, Duration.ofSeconds(10), null);
            Path dir = Path.of(r.output().strip());
            if (r.ok() && hasPostgres(dir)) {
                return dir;
            }
            tried.add("pg_config --bindir (" + r.output().strip() + ", no postgres there)");
        } catch (RuntimeException e) {
            tried.add("pg_config --bindir (" + e.getMessage() + ")");
        }
        Optional<Path> newest = newestUnder(Path.of("/usr/lib/postgresql"));
        if (newest.isPresent()) {
            return newest.get();
        }
        tried.add("/usr/lib/postgresql/*/bin (none with postgres)");
        throw new SandboxException("cannot find the PostgreSQL server binaries; tried " + String.join(", ", tried));
    }

    private static Optional<Path> newestUnder(Path root) {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        List<Path> candidates = new ArrayList<>();
        try (DirectoryStream<Path> versions = Files.newDirectoryStream(root)) {
            for (Path v : versions) {
                if (hasPostgres(v.resolve("bin"))) {
                    candidates.add(v.resolve("bin"));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return candidates.stream().max(Comparator.comparing(PgBinaries::majorVersion));
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString().replaceAll("\\..*", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean hasPostgres(Path dir) {
        return Files.isExecutable(dir.resolve("postgres"));
    }
}
