package dev.baton.jdbc;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long a wrapper may keep using the primary it knows without hearing from ZooKeeper. Contact is recorded with
 * the time the answered request was <em>sent</em>, so the lease never outlives the moment ZooKeeper was last known
 * to be reachable by more than {@code timeout}. Pure bookkeeping over a monotonic clock; the pings are
 * {@link PrimaryWatch}'s.
 */
final class ZooKeeperLease {
    private static final long NEVER = Long.MIN_VALUE;

    private final long timeoutNanos;
    private final LongSupplier nanoClock;
    private volatile long lastContact = NEVER;

    ZooKeeperLease(Duration timeout, LongSupplier nanoClock) {
        this.timeoutNanos = timeout.toNanos();
        this.nanoClock = nanoClock;
    }

    /** ZooKeeper answered a request sent at {@code sentNanos}. */
    synchronized void contact(long sentNanos) {
        if (lastContact == NEVER || sentNanos - lastContact > 0) {
            lastContact = sentNanos;
        }
    }

    boolean contacted() {
        return lastContact != NEVER;
    }

    /** True when ZooKeeper answered a request sent less than {@code timeout} ago. */
    boolean valid() {
        long last = lastContact;
        return last != NEVER && nanoClock.getAsLong() - last < timeoutNanos;
    }

    /** Nanoseconds until the lease runs out (zero or less: it has; the full timeout before the first contact). */
    long remainingNanos() {
        long last = lastContact;
        return last == NEVER ? timeoutNanos : timeoutNanos - (nanoClock.getAsLong() - last);
    }

    /** Milliseconds since the last answered request was sent, -1 before the first. */
    long silentMillis() {
        long last = lastContact;
        return last == NEVER ? -1 : (nanoClock.getAsLong() - last) / 1_000_000;
    }
}
