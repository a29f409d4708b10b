package dev.baton.registry;

import java.time.Instant;

/**
 * Published at {@link RegistryPaths#hold(String)} (an ephemeral node) while the primary is being moved: wrappers
 * queue new borrows until it disappears or a newer primary record arrives.
 *
 * @param kind {@link #SWITCHOVER} (the old primary is fenced and drained by the orchestrator), or {@link
 *     #UNCONFIRMED_PRIMARY} (the primary is silent, cannot be fenced, and may be replaced once the wrappers' lease ran
 *     out: wrappers must also abort the connections they lent to it); null reads as a switchover
 */
public record HoldRecord(String operationId, String fromNode, String toNode, long epoch, Instant since, String kind) {
    public static final String SWITCHOVER = "switchover";
    public static final String UNCONFIRMED_PRIMARY = "unconfirmed-primary";

    public HoldRecord(String operationId, String fromNode, String toNode, long epoch, Instant since) {
        this(operationId, fromNode, toNode, epoch, since, SWITCHOVER);
    }
}
