package dev.baton.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * CPU time per operation, of the benchmark threads ({@code cpu.thread}: the driver and the wrapper on the caller's
 * thread) and of the whole forked JVM ({@code cpu.process}: also GC, JIT, and the wrapper's ZooKeeper and lease
 * threads). On a shared machine throughput moves with the other work; CPU time spent per operation moves much less,
 * and it is where a wrapper's cost shows, since the rest of an operation is waiting for the server.
 */
public final class CpuProfiler implements InternalProfiler {
    static final String THREAD = "cpu.thread";
    static final String PROCESS = "cpu.process";

    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long threadCpuBefore;
    private long processCpuBefore;

    @Override
    public String getDescription() {
        return "CPU time per operation of the benchmark threads and of the whole JVM";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        threadCpuBefore = workerCpuNanos();
        processCpuBefore = os.getProcessCpuTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(
            BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
        long ops = result.getMetadata().getAllOps();
        if (ops <= 0) {
            return List.of();
        }
        double threadMicros = (workerCpuNanos() - threadCpuBefore) / 1000.0 / ops;
        double processMicros = (os.getProcessCpuTime() - processCpuBefore) / 1000.0 / ops;
        return List.of(
                new ScalarResult(THREAD, threadMicros, "us/op", AggregationPolicy.AVG),
                new ScalarResult(PROCESS, processMicros, "us/op", AggregationPolicy.AVG));
    }

    /** CPU time of JMH's worker threads, which persist across the iterations of a fork. */
    private long workerCpuNanos() {
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().contains("jmh-worker")) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                if (cpu > 0) {
                    total += cpu;
                }
            }
        }
        return total;
    }
}
