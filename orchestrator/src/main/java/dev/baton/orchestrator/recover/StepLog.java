package dev.baton.orchestrator.recover;

import dev.baton.registry.HistoryEntry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** The steps of an operation and how long each took, measured from the end of the previous one. */
final class StepLog {
    private final Clock clock;
    private final List<HistoryEntry.Step> steps = new ArrayList<>();
    private final Consumer<List<HistoryEntry.Step>> onStep;
    private long last;

    StepLog(Clock clock) {
        this(clock, steps -> {});
    }

    /** {@code onStep} sees every step as soon as it is done (to report progress to a waiting CLI). */
    StepLog(Clock clock, Consumer<List<HistoryEntry.Step>> onStep) {
        this.clock = clock;
        this.onStep = onStep;
        this.last = clock.millis();
    }

    void done(String name, String detail) {
        long now = clock.millis();
        steps.add(new HistoryEntry.Step(name, now - last, detail));
        last = now;
        onStep.accept(steps());
    }

    String last() {
        return steps.isEmpty() ? "(none)" : steps.get(steps.size() - 1).name();
    }

    List<HistoryEntry.Step> steps() {
        return List.copyOf(steps);
    }
}
