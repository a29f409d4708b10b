package dev.baton.agent;

import dev.baton.orchestrator.config.AgentConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The database server on this host, as the operating system shows it: its main process from the pid file, that
 * process's state from {@code /proc}, and every process of the server. Reads only files; kills with SIGKILL.
 *
 * <p>A PostgreSQL postmaster killed with SIGKILL leaves its backends running until each notices, and one in the middle
 * of a statement finishes it, a COMMIT too. Every PostgreSQL server process runs in the data directory, so they are
 * found by their working directory, and killed before the server is reported gone.
 */
final class LocalServer {
    /**
     * The main process: its pid (0 when none runs), its state letter and its start time (clock ticks since boot) from
     * {@code /proc/<pid>/stat}: pid and start time together name one process, whatever later reuses the pid.
     */
    record Seen(long pid, char state, long startTicks) {
        static final Seen NONE = new Seen(0, 'X', -1);

        boolean running() {
            return pid != 0;
        }

        /** Stopped by a signal (SIGSTOP) or traced: it answers nothing. */
        boolean frozen() {
            return state == 'T' || state == 't';
        }
    }

    /** What a kill did: how many processes, whether every one is gone, and how long it took. */
    record Killed(int processes, boolean gone, long tookMs) {
        String describe() {
            if (processes == 0 && gone) {
                return "no process of it left (checked in " + tookMs + " ms)";
            }
            return processes + " process(es) SIGKILLed, " + (gone ? "all gone" : "NOT all gone") + " after " + tookMs
                    + " ms";
        }
    }

    private final AgentConfig config;
    private final Path dataDirectory;

    LocalServer(AgentConfig config) {
        this.config = config;
        this.dataDirectory = real(config.dataDirectory());
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    /** The server's main process now, or {@link Seen#NONE}: no pid file, a stale one, or a process that is not it. */
    Seen look() {
        long pid = pidFromFile();
        if (pid <= 0) {
            return Seen.NONE;
        }
        String[] stat = stat(pid);
        char state = stat == null ? 0 : stat[0].charAt(0);
        if (state == 0 || state == 'Z' || state == 'X' || !isServer(pid)) { // no process, or gone
            return Seen.NONE;
        }
        return new Seen(pid, state, startTicks(stat));
    }

    /** Whether the very process {@code seen} names (same pid, same start time) still runs: not gone, not a zombie. */
    boolean isAlive(Seen seen) {
        String[] stat = stat(seen.pid());
        if (stat == null) {
            return false;
        }
        char state = stat[0].charAt(0);
        return state != 'Z' && state != 'X' && startTicks(stat) == seen.startTicks();
    }

    /** The fields of {@code /proc/<pid>/stat} after the command name (state first), or null when there is none. */
    private static String[] stat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
            if (close < 0 || close + 2 >= stat.length()) {
                return null;
            }
            return stat.substring(close + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    /** Field 22 of stat (starttime); index 19 after the state. -1 when unreadable. */
    private static long startTicks(String[] stat) {
        try {
            return stat.length > 19 ? Long.parseLong(stat[19]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private long pidFromFile() {
        try {
            String text = Files.readString(config.pidFile(), StandardCharsets.US_ASCII);
            String first = text.lines().findFirst().orElse("").strip();
            return first.isEmpty() ? 0 : Long.parseLong(first);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | NumberFormatException e) {
            return 0; // being written, or not a pid file: looked at again on the next pass
        }
    }

    /** The state letter of {@code pid}, 0 when there is no such process. */
    static char state(long pid) {
        String[] stat = stat(pid);
        return stat == null ? 0 : stat[0].charAt(0);
    }

    /**
     * Whether {@code pid} is this server and not another process that got a recycled pid: a PostgreSQL process runs
     * in the data directory; a MariaDB/MySQL one is named mariadbd or mysqld.
     */
    private boolean isServer(long pid) {
        if (config.dialect() == ClusterConfig.Dialect.POSTGRESQL) {
            return dataDirectory.equals(cwd(pid).orElse(null));
        }
        String comm = comm(pid);
        return comm.equals("mariadbd") || comm.equals("mysqld");
    }

    private static Optional<Path> cwd(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.US_ASCII)
                    .strip();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Every process of the server: {@code main} (while that very process lives), and on PostgreSQL every process that
     * runs in the data directory (backends, walsenders, background workers, also those a dead postmaster left
     * behind).
     */
    List<Long> processes(Seen main) {
        List<Long> found = new ArrayList<>();
        if (main.running() && isAlive(main)) {
            found.add(main.pid());
        }
        if (config.dialect() != ClusterConfig.Dialect.POSTGRESQL) {
            return found;
        }
        long self = ProcessHandle.current().pid();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            entries.map(p -> p.getFileName().toString())
                    .filter(name -> !name.isEmpty() && name.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .filter(pid -> pid != main.pid() && pid != self)
                    .filter(pid -> dataDirectory.equals(cwd(pid).orElse(null)))
                    .filter(pid -> comm(pid).startsWith("postgres") || comm(pid).startsWith("postmaster"))
                    .forEach(found::add);
        } catch (IOException e) {
            // /proc unreadable: only the main process is known
        }
        return found;
    }

    /**
     * SIGKILLs every process of the server ({@link #processes}) and waits until none remains, at most {@code
     * budget}. A stopped (SIGSTOP) process dies of SIGKILL too.
     */
    Killed killAll(Seen main, Duration budget) {
        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        java.util.Set<Long> killed = new java.util.HashSet<>();
        List<Long> left = processes(main);
        while (true) {
            for (long pid : left) {
                if (ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    killed.add(pid);
                }
            }
            left = processes(main).stream().filter(pid -> isLive(pid)).toList();
            if (left.isEmpty() || System.nanoTime() - deadline > 0) {
                break;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Killed(killed.size(), left.isEmpty(), (System.nanoTime() - start) / 1_000_000);
    }

    /** Alive and not a zombie: a zombie runs nothing, it only waits for its parent to collect it. */
    private static boolean isLive(long pid) {
        char s = state(pid);
        return s != 0 && s != 'Z' && s != 'X';
    }

    /** The data directory, as the agent compares it (symbolic links resolved). */
    Path dataDirectory() {
        return dataDirectory;
    }
}
