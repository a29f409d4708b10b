package dev.baton.sandbox;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** A long-running server process started as a child of this JVM, with its output appended to a log file. */
final class ServerProcess {
    private final String name;
    private final Path logFile;
    private Process process;

    ServerProcess(String name, Path logFile) {
        this.name = name;
        this.logFile = logFile;
    }

    synchronized void launch(List<String> command) {
        if (isRunning()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
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

    synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** SIGKILLs the process and every descendant, and waits until they are all gone. */
    synchronized void kill() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> tree = tree();
        tree.forEach(ProcessHandle::destroyForcibly);
        awaitGone(tree, Duration.ofSeconds(30));
    }

    /** Sends {@code signal} (e.g. "INT" for a PostgreSQL fast shutdown) and waits; SIGKILLs after {@code timeout}. */
    synchronized void stop(String signal, Duration timeout) {
        if (!isRunning()) {
            return;
        }
        List<ProcessHandle> tree = tree();
        signal(tree, "CONT");
        signal(tree.subList(0, 1), signal);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            return;
        }
        awaitGone(tree, Duration.ofSeconds(10));
    }

    /** Sends STOP or CONT to the whole process tree (parent first for STOP so it spawns nothing new). */
    synchronized void signalTree(String signal) {
        if (!isRunning()) {
            throw new IllegalStateException(name + " is not running");
        }
        signal(tree(), signal);
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

    private List<ProcessHandle> tree() {
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(process.toHandle());
        process.toHandle().descendants().forEach(tree::add);
        return tree;
    }

    private static void signal(List<ProcessHandle> handles, String signal) {
        List<String> cmd = new ArrayList<>(List.of("kill", "-s", signal));
        handles.stream().filter(ProcessHandle::isAlive).forEach(h -> cmd.add(Long.toString(h.pid())));
        if (cmd.size() > 3) {
            Exec.run(cmd, null, Duration.ofSeconds(10), null); // a process that just exited is not an error
        }
    }

    static void awaitGone(List<ProcessHandle> handles, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : handles) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                throw new SandboxException(
                        "process " + h.pid() + " still alive " + timeout.toMillis() + " ms after SIGKILL");
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
