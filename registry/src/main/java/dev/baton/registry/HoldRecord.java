package dev.baton.registry;

import java.time.Instant;

/**
 * Published at {@link RegistryPaths#hold(String)} (an ephemeral node) while the primary is being moved: wrappers
 * queue new borrows until it disappears or a newer primary record arrives.
 *
 * @param kind {@link #SWITCHOVER} (the old primary is fenced and drained by the orchestrator), or {@link
 *     #UNCONFIRMED_PRIMARY} (the primary is silent, cannot be fenced, and may be replaced once the wrappers' lease ran
 *     out: wrappers must also abort the connections they lent to it); null reads as a switchover
 * @param fence set once the orchestrator has decided to replace the held primary (its verdict is dead, not only
 *     suspect): the primary's agent then kills its server. A hold written early, while the loss is still being
 *     confirmed, only holds the wrappers, and a primary that answers again is released unharmed
 */
public record HoldRecord(
        String operationId, String fromNode, String toNode, long epoch, Instant since, String kind, boolean fence) {
    public static final String SWITCHOVER = "switchover";
    public static final String UNCONFIRMED_PRIMARY = "unconfirmed-primary";

    public HoldRecord(String operationId, String fromNode, String toNode, long epoch, Instant since) {
        this(operationId, fromNode, toNode, epoch, since, SWITCHOVER, false);
    }

    public HoldRecord(String operationId, String fromNode, String toNode, long epoch, Instant since, String kind) {
        this(operationId, fromNode, toNode, epoch, since, kind, false);
    }

    /** This hold, marked for fencing: the orchestrator is about to replace the held primary. */
    public HoldRecord forFence() {
        return new HoldRecord(operationId, fromNode, toNode, epoch, since, kind, true);
    }
}
