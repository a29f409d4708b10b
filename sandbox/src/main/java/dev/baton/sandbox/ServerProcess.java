package dev.baton.sandbox;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * A long-running server process started as a child of this JVM, with its output appended to a log file; or, when the
 * server has a pid file, one started by someone else ({@code pg_ctl} in a rejoin script) and found through that file.
 */
final class ServerProcess {
    private static final Duration POLL = Duration.ofMillis(20);

    private final String name;
    private final Path logFile;
    private final List<Path> lockFiles;
    private Process process;

    ServerProcess(String name, Path logFile) {
        this(name, logFile, List.of());
    }

    /**
     * {@code lockFiles}: the server's own pid file first (its first line names a detached server), then any other lock
     * file that starts with the server's pid (PostgreSQL's socket lock file).
     */
    ServerProcess(String name, Path logFile, List<Path> lockFiles) {
        this.name = name;
        this.logFile = logFile;
        this.lockFiles = List.copyOf(lockFiles);
    }

    synchronized void launch(List<String> command) {
        if (isRunning()) {
            throw new IllegalStateException(name + " is already running (pid " + pid() + ")");
        }
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new SandboxException("cannot start " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
        }
    }

    /** The running server: this JVM's child, else the live server process named by the pid file. */
    synchronized Optional<ProcessHandle> current() {
        if (process != null && process.isAlive()) {
            return Optional.of(process.toHandle());
        }
        return detached();
    }

    synchronized long pid() {
        return current().map(ProcessHandle::pid).orElse(-1L);
    }

    synchronized boolean isRunning() {
        return current().isPresent();
    }

    /** SIGKILLs the process and every descendant, and waits until they are all gone. */
    synchronized void kill() {
        Optional<ProcessHandle> running = current();
        if (running.isEmpty()) {
            return;
        }
        List<ProcessHandle> tree = tree(running.get());
        tree.forEach(ProcessHandle::destroyForcibly);
        awaitGone(tree, Duration.ofSeconds(30));
        afterExit(running.get());
    }

    /** Sends {@code signal} (e.g. "INT" for a PostgreSQL fast shutdown) and waits; SIGKILLs after {@code timeout}. */
    synchronized void stop(String signal, Duration timeout) {
        Optional<ProcessHandle> running = current();
        if (running.isEmpty()) {
            return;
        }
        List<ProcessHandle> tree = tree(running.get());
        signal(tree, "CONT");
        signal(tree.subList(0, 1), signal);
        try {
            awaitGone(tree.subList(0, 1), timeout);
        } catch (SandboxException stillAlive) {
            kill();
            return;
        }
        awaitGone(tree, Duration.ofSeconds(10));
        afterExit(running.get());
    }

    /** Sends STOP or CONT to the whole process tree (parent first for STOP so it spawns nothing new). */
    synchronized void signalTree(String signal) {
        ProcessHandle running = current().orElseThrow(() -> new IllegalStateException(name + " is not running"));
        signal(tree(running), signal);
    }

    /**
     * Waits until {@code ready} holds; fails at once if the process exits, or after {@code timeout}, with the tail of
     * the log.
     */
    void awaitReady(String what, Duration timeout, BooleanSupplier ready) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!isRunning()) {
                throw new SandboxException(
                        name + " exited while waiting for it to " + what + "; log tail:\n" + logTail(logFile, 30));
            }
            if (ready.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new SandboxException(String.format(
                        "%s did not %s within %d ms; log tail:\n%s",
                        name, what, timeout.toMillis(), logTail(logFile, 30)));
            }
            Sleeper.sleep(Duration.ofMillis(100));
        }
    }

    Path logFile() {
        return logFile;
    }

    /**
     * The server named by the pid file, if that pid is a live (not zombie) server process. A detached server's parent
     * is whatever adopted it, which may never reap it: its zombie must not count as running.
     */
    private Optional<ProcessHandle> detached() {
        if (lockFiles.isEmpty()) {
            return Optional.empty();
        }
        return SandboxDir.readPid(lockFiles.get(0))
                .flatMap(ProcessHandle::of)
                .filter(h -> SandboxDir.isAlive(h.pid()))
                .filter(SandboxDir::isServer);
    }

    /**
     * Lets this JVM reap its child; for a detached server, removes its stale lock files, since a zombie left unreaped
     * would still pass the server's own "is the pid in the lock file alive" check and block the next start.
     */
    private void afterExit(ProcessHandle exited) {
        if (process != null && process.pid() == exited.pid()) {
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        for (Path lock : lockFiles) {
            if (SandboxDir.readPid(lock).filter(p -> p == exited.pid()).isPresent()) {
                try {
                    Files.deleteIfExists(lock);
                } catch (IOException e) {
                    throw new SandboxException(
                            name + ": cannot remove the stale lock file " + lock + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private static List<ProcessHandle> tree(ProcessHandle root) {
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(root);
        root.descendants().forEach(tree::add);
        return tree;
    }

    private static void signal(List<ProcessHandle> handles, String signal) {
        List<String> cmd = new ArrayList<>(List.of("kill", "-s", signal));
        handles.stream().filter(ProcessHandle::isAlive).forEach(h -> cmd.add(Long.toString(h.pid())));
        if (cmd.size() > 3) {
            Exec.run(cmd, null, Duration.ofSeconds(10), null); // a process that just exited is not an error
        }
    }

    /** Waits until every process has exited; a zombie counts as gone (its adoptive parent may never reap it). */
    static void awaitGone(List<ProcessHandle> handles, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : handles) {
            while (SandboxDir.isAlive(h.pid())) {
                if (System.nanoTime() > deadline) {
                    throw new SandboxException(
                            "process " + h.pid() + " still alive after " + timeout.toMillis() + " ms");
                }
                try {
                    Thread.sleep(POLL.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static String logTail(Path file, int lines) {
        try {
            List<String> all = new String(Files.readAllBytes(file), StandardCharsets.UTF_8)
                    .lines()
                    .collect(Collectors.toList());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + file + ": " + e.getMessage() + ")";
        }
    }
}
