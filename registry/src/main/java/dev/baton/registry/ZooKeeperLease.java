package dev.baton.registry;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How long a wrapper may keep using the primary it knows without hearing from ZooKeeper, or an agent may leave its
 * primary unfenced. Contact is recorded with
 * the time the answered request was <em>sent</em>, so the lease never outlives the moment ZooKeeper was last known
 * to be reachable by more than {@code timeout}. Pure bookkeeping over a monotonic clock; the pings (a
 * {@code sync} then reads, sent together) are the caller's.
 */
public final class ZooKeeperLease {
    private static final long NEVER = Long.MIN_VALUE;

    private final long configuredNanos;
    private volatile long timeoutNanos;
    private final LongSupplier nanoClock;
    private volatile long lastContact = NEVER;

    public ZooKeeperLease(Duration timeout, LongSupplier nanoClock) {
        this.configuredNanos = timeout.toNanos();
        this.timeoutNanos = configuredNanos;
        this.nanoClock = nanoClock;
    }

    /**
     * Fits the lease into the session ZooKeeper granted ({@code grantedMs}), when a server's {@code
     * maxSessionTimeout} made it shorter than the {@code askedMs} asked for: at most three quarters of it. The
     * wrapper's registration is an ephemeral node of that session; once the session expires the orchestrator no
     * longer waits for this wrapper, so its lease must have run out before. When the session granted is the one
     * asked for, the configured lease (shorter than it) is in force. A lease made longer again (a longer session
     * after a short one) does not extend the last contact's validity: what was counted on the shorter lease keeps its
     * end. Returns the lease now in force.
     */
    public synchronized Duration fitSession(long grantedMs, long askedMs) {
        long next = grantedMs > 0 && grantedMs < askedMs
                ? Math.min(configuredNanos, Duration.ofMillis(grantedMs).toNanos() / 4 * 3)
                : configuredNanos;
        long previous = timeoutNanos;
        if (next > previous && lastContact != NEVER) {
            lastContact -= next - previous; // the same end as before
        }
        timeoutNanos = next;
        return timeout();
    }

    /** The lease in force: the configured one, or shorter to fit the session ({@link #fitSession}). */
    public Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /** ZooKeeper answered a request sent at {@code sentNanos}. */
    public synchronized void contact(long sentNanos) {
        if (lastContact == NEVER || sentNanos - lastContact > 0) {
            lastContact = sentNanos;
        }
    }

    public boolean contacted() {
        return lastContact != NEVER;
    }

    /** True when ZooKeeper answered a request sent less than {@code timeout} ago. */
    public boolean valid() {
        long last = lastContact;
        return last != NEVER && nanoClock.getAsLong() - last < timeoutNanos;
    }

    /** Nanoseconds until the lease runs out (zero or less: it has; the full timeout before the first contact). */
    public long remainingNanos() {
        long last = lastContact;
        return last == NEVER ? timeoutNanos : timeoutNanos - (nanoClock.getAsLong() - last);
    }

    /** Milliseconds since the last answered request was sent, -1 before the first. */
    public long silentMillis() {
        long last = lastContact;
        return last == NEVER ? -1 : (nanoClock.getAsLong() - last) / 1_000_000;
    }
}
