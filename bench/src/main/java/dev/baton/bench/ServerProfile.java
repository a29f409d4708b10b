package dev.baton.bench;

/**
 * The server settings a sandbox cluster runs with. Baton must work on servers as users configure them, so the
 * default is every replication and timeout setting at the server's own default; the tuned profile (short receiver
 * timeouts) exists to compare against, and whatever runs on it says so.
 */
public enum ServerProfile {
    DEFAULTS,
    TUNED;

    /** How a benchmark's header names the profile. */
    public String describe(String dialect) {
        if (this == DEFAULTS) {
            return "server defaults";
        }
        return dialect.equals("postgresql")
                ? "tuned profile (wal_receiver_timeout = wal_sender_timeout = 5 s, wal_retrieve_retry_interval = 50 ms)"
                : "tuned profile (slave_net_timeout = 5 s, MASTER_CONNECT_RETRY = 1 s)";
    }
}
