package dev.baton.bench;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One crash of the primary under write load: kill -9, then wait for the first write acknowledged by another
 * node. Used by the demo (which prints as it goes), the benchmark and the end-to-end tests.
 */
public final class FailoverRun {
    /** Milliseconds from the kill to each milestone; -1 when it did not happen. */
    public record Result(
            String oldPrimary,
            String newPrimary,
            long newEpoch,
            long detectedMs,
            long promotedMs,
            long publishedMs,
            long firstWriteMs,
            long failedWrites,
            Writer.Write firstWrite) {}

    private final FailoverScenario scenario;
    private final Map<ClusterEvent.Kind, Long> eventNanos = new ConcurrentHashMap<>();
    private volatile long killNanos;

    public FailoverRun(FailoverScenario scenario) {
        this.scenario = scenario;
    }

    /** The listener to give the orchestrator, so that event times can be measured from the kill. */
    public ClusterEvent.Listener listener(Consumer<ClusterEvent> also) {
        return event -> {
            if (killNanos != 0) {
                eventNanos.putIfAbsent(event.kind(), System.nanoTime());
            }
            also.accept(event);
        };
    }

    public long sinceKillMs() {
        return killNanos == 0 ? 0 : (System.nanoTime() - killNanos) / 1_000_000;
    }

    /** Kills the published primary with SIGKILL and waits until the writer commits on another node. */
    public Result crashPrimary(Writer writer, Duration timeout) throws Exception {
        PrimaryRecord before = scenario.dataSource().currentPrimary().orElseThrow();
        SandboxNode victim = scenario.node(before.nodeId());
        long failedBefore = writer.failedCount();
        killNanos = System.nanoTime();
        victim.kill();
        long deadline = killNanos + timeout.toNanos();
        Writer.Write first;
        while ((first = writer.firstAcknowledgedElsewhereAfter(killNanos, before.port())) == null) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no write acknowledged by another node within " + timeout.toMillis()
                        + " ms of killing " + before.nodeId());
            }
            Thread.sleep(5);
        }
        PrimaryRecord after = scenario.dataSource().currentPrimary().orElseThrow();
        return new Result(
                before.nodeId(),
                after.nodeId(),
                after.epoch(),
                ms(ClusterEvent.Kind.PRIMARY_DEAD),
                ms(ClusterEvent.Kind.PROMOTED),
                ms(ClusterEvent.Kind.PUBLISHED),
                (first.endNanos() - killNanos) / 1_000_000,
                writer.failedCount() - failedBefore,
                first);
    }

    private long ms(ClusterEvent.Kind kind) {
        Long at = eventNanos.get(kind);
        return at == null ? -1 : (at - killNanos) / 1_000_000;
    }

    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
