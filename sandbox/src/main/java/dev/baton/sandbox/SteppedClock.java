package dev.baton.sandbox;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A wall clock that a test can step, as NTP does: the system's UTC clock plus an offset. It shows that a duration
 * guarding safety is measured on the monotonic clock, which no step moves (DESIGN rule 12).
 */
public final class SteppedClock extends Clock {
    private volatile Duration offset = Duration.ZERO;

    /** Moves the clock by {@code by} (negative: backwards) from now on. */
    public void step(Duration by) {
        offset = offset.plus(by);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return Instant.now().plus(offset);
    }
}
