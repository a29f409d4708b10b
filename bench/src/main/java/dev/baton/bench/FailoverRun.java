package dev.baton.bench;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One fault of the primary under write load (a crash or a hang, see {@link Fault}), then the wait for the first
 * write acknowledged by another node. Used by the demo (which prints as it goes), the benchmarks and the end-to-end
 * tests.
 */
public final class FailoverRun {
    /**
     * Milliseconds from the fault to each milestone; -1 when it did not happen. {@code firstWrite} is null (and
     * {@code firstWriteMs} -1) when no other node acknowledged a write before the deadline.
     */
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
    private volatile long faultNanos;

    public FailoverRun(FailoverScenario scenario) {
        this.scenario = scenario;
    }

    /** The listener to give the orchestrator, so that event times can be measured from the kill. */
    public ClusterEvent.Listener listener(Consumer<ClusterEvent> also) {
        return event -> {
            if (faultNanos != 0) {
                eventNanos.putIfAbsent(event.kind(), System.nanoTime());
            }
            also.accept(event);
        };
    }

    public long sinceKillMs() {
        return faultNanos == 0 ? 0 : (System.nanoTime() - faultNanos) / 1_000_000;
    }

    /** Kills the published primary with SIGKILL and waits until the writer commits on another node. */
    public Result crashPrimary(Writer writer, Duration timeout) throws Exception {
        Result r = failPrimary(Fault.CRASH, writer, timeout);
        if (r.firstWrite() == null) {
            throw new TimeoutException("no write acknowledged by another node within " + timeout.toMillis()
                    + " ms of killing " + r.oldPrimary());
        }
        return r;
    }

    /**
     * Injects {@code fault} into the published primary and waits until the writer commits on another node, or
     * until {@code deadline} has passed: then the result has no first write. A hung primary stays hung.
     */
    public Result failPrimary(Fault fault, Writer writer, Duration deadline) throws InterruptedException {
        PrimaryRecord before = scenario.dataSource().currentPrimary().orElseThrow();
        SandboxNode victim = scenario.node(before.nodeId());
        long failedBefore = writer.failedCount();
        faultNanos = System.nanoTime();
        fault.inject(victim);
        long end = faultNanos + deadline.toNanos();
        Writer.Write first;
        while ((first = writer.firstAcknowledgedElsewhereAfter(faultNanos, before.port())) == null
                && System.nanoTime() < end) {
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
                first == null ? -1 : (first.endNanos() - faultNanos) / 1_000_000,
                writer.failedCount() - failedBefore,
                first);
    }

    private long ms(ClusterEvent.Kind kind) {
        Long at = eventNanos.get(kind);
        return at == null ? -1 : (at - faultNanos) / 1_000_000;
    }
}
