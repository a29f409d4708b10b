package dev.baton.orchestrator.config;

import java.time.Duration;

/**
 * Operators' shell commands run around failovers and switchovers ({@code /bin/sh -c}, placeholders single-quoted):
 * {@code {cluster} {oldPrimary} {newPrimary} {epoch} {loss} {reason}}, also given as environment variables
 * {@code BATON_CLUSTER}, {@code BATON_OLD_PRIMARY}, ... Each is null when not configured.
 *
 * @param preFailover runs before a failover promotes anything; a non-zero exit (or not finishing within {@code
 *     timeout}) vetoes that failover attempt
 * @param postFailover runs after a failover published its new primary; never blocks the HA loop
 * @param postSwitchover runs after a switchover published its new primary; never blocks the HA loop
 * @param onFailoverRefused runs when a failover is refused (once per distinct reason); never blocks the HA loop
 * @param timeout how long any hook may run before it is killed (with its whole process tree)
 */
public record HooksConfig(
        String preFailover, String postFailover, String postSwitchover, String onFailoverRefused, Duration timeout) {
    public static final HooksConfig NONE = new HooksConfig(null, null, null, null, Duration.ofSeconds(10));
}
