package dev.baton.sandbox;

import java.time.Duration;

final class Sleeper {
    private Sleeper() {}

    /** Polling pause; restores the interrupt flag and fails the wait if interrupted. */
    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while waiting", e);
        }
    }
}
