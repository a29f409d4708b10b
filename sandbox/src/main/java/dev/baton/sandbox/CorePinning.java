package dev.baton.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fixed cores for latency benchmarks: this JVM (and the processes it starts later, such as JMH's forks) on core 0,
 * the database servers and their backends on core 1. Left to the scheduler, the core a server backend lands on relative
 * to the client thread changed one connection's latency threefold for minutes on a 2-core VM, which drowns a 1 %
 * difference between two clients; one core for the application and one for the database is also closer to an
 * application and its database on separate hosts. Needs two cores and {@code taskset} (util-linux).
 */
public final class CorePinning {
    private CorePinning() {}

    /**
     * Pins this JVM's threads to core 0 and each node's server process and its children to core 1; a server's later
     * children (new connections' backends) inherit its core. Returns how the processes were placed, for the
     * benchmark's output; never throws: an unpinned run is reported as such.
     */
    public static String pin(List<? extends SandboxNode> nodes) {
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return "1 core: client and server share it";
        }
        try {
            taskset("0", ProcessHandle.current().pid(), true);
            for (SandboxNode n : nodes) {
                taskset("1", n.pid(), false);
                ProcessHandle.of(n.pid())
                        .ifPresent(server -> server.descendants().forEach(child -> taskset("1", child.pid(), false)));
            }
            return "this JVM pinned to core 0, the database processes to core 1";
        } catch (RuntimeException e) {
            return "not pinned (" + e.getMessage() + "): expect wide swings between runs";
        }
    }

    private static void taskset(String core, long pid, boolean allThreads) {
        List<String> command = new ArrayList<>(List.of("taskset", "-p", "-c", core, Long.toString(pid)));
        if (allThreads) {
            command.add(1, "-a");
        }
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + ": " + output.strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("taskset: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
