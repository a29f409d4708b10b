package dev.baton.registry;

import java.time.Instant;

/**
 * What a wrapper (one {@code FailoverDataSource}) publishes about itself at {@link RegistryPaths#client(String,
 * String)}, an ephemeral node of its own ZooKeeper session. The orchestrator reads these before it replaces a primary
 * it cannot prove dead: every registered wrapper must either acknowledge the hold or be waited out for its lease.
 *
 * @param id the node's name: host, process and a random part
 * @param host the application host's name, for operators
 * @param pid the application's process id
 * @param lease whether the wrapper stops using its primary when ZooKeeper is silent for {@code leaseTimeoutMs}
 * @param leaseTimeoutMs the wrapper's lease; the orchestrator waits at least this long for a wrapper that did not
 *     acknowledge a hold
 * @param since when the wrapper registered (wall clock, for display)
 */
public record ClientRegistration(String id, String host, long pid, boolean lease, long leaseTimeoutMs, Instant since) {
    /** A fresh registration id: {@code host-pid-random}, a valid path segment. */
    public static String newId(String host, long pid) {
        String h = host == null ? "host" : host.replaceAll("[^A-Za-z0-9_.-]", "_");
        if (h.length() > 32) {
            h = h.substring(0, 32);
        }
        if (h.isEmpty() || h.equals(".") || h.equals("..")) {
            h = "host";
        }
        long random = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        return h + "-" + pid + "-" + Long.toHexString(random);
    }
}
