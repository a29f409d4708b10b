package dev.baton.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one temp base dir of a sandbox: created with an {@code owner.pid} naming this JVM, deleted at close, and reaped
 * (servers killed, dir deleted) by a later sandbox when the JVM that owned it died without closing it.
 */
final class SandboxDir {
    static final String OWNER_FILE = "owner.pid";
    private static final List<String> PREFIXES = List.of("baton-pg-", "baton-mariadb-", "baton-zk-");
    private static final List<String> SERVER_COMMANDS = List.of("postgres", "mariadbd", "mysqld");
    private static final Duration OWNERLESS_GRACE = Duration.ofMinutes(10);
    private static final Logger log = LoggerFactory.getLogger(SandboxDir.class);

    private SandboxDir() {}

    /** Reaps stale sandboxes, then creates {@code /tmp/<prefix>NNN} with this JVM's pid in {@code owner.pid}. */
    static Path create(String prefix) {
        Path root = tempRoot();
        reapStale(root);
        try {
            Path dir = Files.createTempDirectory(root, prefix);
            Files.writeString(dir.resolve(OWNER_FILE), ProcessHandle.current().pid() + "\n");
            return dir;
        } catch (IOException e) {
            throw new SandboxException("cannot create a sandbox dir under " + root + ": " + e.getMessage(), e);
        }
    }

    static Path tempRoot() {
        Path tmp = Path.of("/tmp");
        return Files.isDirectory(tmp) ? tmp : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** Kills the servers of, and deletes, every sandbox dir under {@code root} whose owner JVM is gone. */
    static void reapStale(Path root) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, "baton-*")) {
            for (Path dir : dirs) {
                if (PREFIXES.stream().anyMatch(p -> dir.getFileName().toString().startsWith(p))
                        && Files.isDirectory(dir)
                        && isStale(dir)) {
                    log.info("Reaping sandbox {} left behind by a dead JVM", dir);
                    killServers(dir);
                    deleteRecursively(dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("Could not reap stale sandboxes under {}: {}", root, e.toString());
        }
    }

    private static boolean isStale(Path dir) throws IOException {
        Path owner = dir.resolve(OWNER_FILE);
        if (!Files.exists(owner)) {
            FileTime modified = Files.getLastModifiedTime(dir);
            return modified.toInstant().isBefore(Instant.now().minus(OWNERLESS_GRACE));
        }
        Optional<Long> pid = readPid(owner);
        return pid.isEmpty() || !isAlive(pid.get());
    }

    /** Alive and not a zombie (a SIGKILLed JVM stays a zombie until its parent reaps it). */
    static boolean isAlive(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 1).strip();
            return !state.startsWith("Z") && !state.startsWith("X");
        } catch (IOException | RuntimeException e) {
            return true; // no /proc: trust ProcessHandle
        }
    }

    /** Kills every server whose pid file (postmaster.pid, dbN.pid) lies in {@code dir} or one level below. */
    static void killServers(Path dir) throws IOException {
        List<ProcessHandle> killed = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir, 2)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (Files.isRegularFile(f) && name.endsWith(".pid") && !name.equals(OWNER_FILE)) {
                    readPid(f)
                            .flatMap(ProcessHandle::of)
                            .filter(SandboxDir::isServer)
                            .ifPresent(h -> {
                                List<ProcessHandle> tree = new ArrayList<>();
                                tree.add(h);
                                h.descendants().forEach(tree::add);
                                tree.forEach(ProcessHandle::destroyForcibly);
                                killed.addAll(tree);
                            });
                }
            }
        }
        ServerProcess.awaitGone(killed, Duration.ofSeconds(30));
    }

    static boolean isServer(ProcessHandle h) {
        String command = h.info().command().orElse("");
        return SERVER_COMMANDS.stream().anyMatch(command::endsWith);
    }

    /** The pid on the first line of {@code file} (owner.pid, postmaster.pid, dbN.pid), if readable. */
    static Optional<Long> readPid(Path file) {
        try {
            String first = Files.readString(file, StandardCharsets.UTF_8)
                    .lines()
                    .findFirst()
                    .orElse("")
                    .strip();
            return Optional.of(Long.parseLong(first));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE; // vanished meanwhile (e.g. a socket of a dying server)
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new SandboxException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Registers {@code close} to run at JVM exit; returns the hook for {@link #unregisterHook}. */
    static Thread registerHook(String name, Runnable close) {
        Thread hook = new Thread(close, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    static void unregisterHook(Thread hook) {
        if (hook == null || Thread.currentThread() == hook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to; close() is idempotent
        }
    }

    /**
     * What closing a sandbox does, whatever the database: kill every server and wait until it is gone, delete the
     * base dir, drop the shutdown hook. Every step is tried; the last failure is thrown at the end.
     */
    static void tearDown(List<? extends SandboxNode> nodes, Path baseDir, Thread shutdownHook) {
        RuntimeException failure = null;
        for (SandboxNode n : nodes) {
            try {
                n.kill();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        try {
            deleteRecursively(baseDir);
        } catch (RuntimeException e) {
            failure = e;
        }
        unregisterHook(shutdownHook);
        if (failure != null) {
            throw failure;
        }
    }
}
