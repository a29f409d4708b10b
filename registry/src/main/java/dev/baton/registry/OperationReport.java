package dev.baton.registry;

import java.time.Instant;
import java.util.List;

/**
 * A request from the CLI and the leader's answer, kept in one sequential node under {@link
 * RegistryPaths#requests(String)}. The CLI creates it {@code pending}; the leading orchestrator rewrites it as it
 * works ({@code running}, each step as it finishes) and ends it in a final state; the CLI then deletes it.
 *
 * @param target the node the operator asked for, or null for the best candidate
 * @param state pending, running, planned (dry run), succeeded, rolled-back, refused or failed
 * @param leftToDo after a promotion that could not finish every step: what the operator must still do
 */
public record OperationReport(
        String id,
        String kind,
        String target,
        boolean dryRun,
        Instant requestedAt,
        String state,
        String message,
        String fromNode,
        String toNode,
        long epoch,
        List<HistoryEntry.Step> steps,
        String leftToDo) {

    public static final String PENDING = "pending";
    public static final String RUNNING = "running";

    public OperationReport {
        java.util.Objects.requireNonNull(id, "id");
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(state, "state");
        java.util.Objects.requireNonNull(requestedAt, "requestedAt");
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    public static OperationReport request(String id, String kind, String target, boolean dryRun, Instant at) {
        return new OperationReport(id, kind, target, dryRun, at, PENDING, null, null, null, 0, List.of(), null);
    }

    public boolean isFinished() {
        return !state.equals(PENDING) && !state.equals(RUNNING);
    }

    public OperationReport with(String state, String message, List<HistoryEntry.Step> steps) {
        return new OperationReport(
                id, kind, target, dryRun, requestedAt, state, message, fromNode, toNode, epoch, steps, leftToDo);
    }

    public OperationReport between(String from, String to, long epoch) {
        return new OperationReport(
                id, kind, target, dryRun, requestedAt, state, message, from, to, epoch, steps, leftToDo);
    }

    public OperationReport leaving(String leftToDo) {
        return new OperationReport(
                id, kind, target, dryRun, requestedAt, state, message, fromNode, toNode, epoch, steps, leftToDo);
    }
}
