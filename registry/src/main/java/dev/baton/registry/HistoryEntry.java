package dev.baton.registry;

import java.time.Instant;
import java.util.List;

/**
 * A finished failover or switchover, appended under {@link RegistryPaths#history(String)}.
 *
 * @param kind {@code failover} or {@code switchover}
 * @param outcome {@code succeeded}, {@code rolled-back} or {@code failed}
 * @param dataLossBytes estimated amount the promoted node had not received from the old primary, in {@code
 *     dataLossUnit}: bytes (PostgreSQL) or transactions (MySQL family); -1 when it cannot be estimated
 */
public record HistoryEntry(
        String id,
        String kind,
        String cluster,
        String fromNode,
        String toNode,
        long epoch,
        String outcome,
        String reason,
        long dataLossBytes,
        String dataLossUnit,
        Instant startedAt,
        Instant finishedAt,
        List<Step> steps) {

    public HistoryEntry {
        java.util.Objects.requireNonNull(id, "id");
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(outcome, "outcome");
        java.util.Objects.requireNonNull(finishedAt, "finishedAt");
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** One step of an operation and how long it took. */
    public record Step(String name, long millis, String detail) {}
}
