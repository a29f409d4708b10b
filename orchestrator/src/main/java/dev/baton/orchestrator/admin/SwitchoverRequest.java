package dev.baton.orchestrator.admin;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.OperationReport;
import dev.baton.registry.RegistryJson;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A switchover asked for through ZooKeeper, the way the CLI and the HTTP API both ask: a sequential request node
 * under {@code /clusters/<c>/requests/} that the leading orchestrator picks up, rewrites with every finished step and
 * ends in a final state. Whoever submitted it follows it to the end and then deletes it.
 */
public final class SwitchoverRequest {
    /** How long a request may stay unanswered before we conclude that no orchestrator leads the cluster. */
    public static final Duration PICKUP_TIMEOUT = Duration.ofSeconds(15);

    private final ClusterRegistry registry;
    private final String path;
    private final OperationReport submitted;

    private SwitchoverRequest(ClusterRegistry registry, String path, OperationReport submitted) {
        this.registry = registry;
        this.path = path;
        this.submitted = submitted;
    }

    /** Writes the request; {@code to} null asks for the best candidate, {@code plan} for the plan only. */
    public static SwitchoverRequest submit(ClusterRegistry registry, String to, boolean plan) throws Exception {
        OperationReport request =
                OperationReport.request(UUID.randomUUID().toString(), "switchover", to, plan, Instant.now());
        return new SwitchoverRequest(registry, registry.createRequest(request), request);
    }

    /** The operation id the orchestrator reports it under (also in the history). */
    public String id() {
        return submitted.id();
    }

    public OperationReport submitted() {
        return submitted;
    }

    /**
     * Waits until the request is finished and returns the final report; {@code onSteps} sees the steps done so far
     * whenever more were done. A request no orchestrator picks up within {@link #PICKUP_TIMEOUT} is withdrawn. The
     * request node is deleted once it is finished (or withdrawn).
     *
     * @throws IllegalStateException when it was withdrawn, deleted by someone else or did not finish in time
     */
    public OperationReport follow(Duration timeout, Consumer<List<HistoryEntry.Step>> onSteps) throws Exception {
        long start = System.nanoTime();
        int seenSteps = 0;
        try {
            while (true) {
                Stat stat = new Stat();
                OperationReport report;
                try {
                    report = RegistryJson.read(
                            registry.client().getData().storingStatIn(stat).forPath(path), OperationReport.class);
                } catch (KeeperException.NoNodeException e) {
                    throw new IllegalStateException("the switchover request " + path + " was deleted by someone else");
                }
                if (report.steps().size() > seenSteps) {
                    seenSteps = report.steps().size();
                    onSteps.accept(report.steps());
                }
                if (report.isFinished()) {
                    return report;
                }
                Duration waited = Duration.ofNanos(System.nanoTime() - start);
                if (report.state().equals(OperationReport.PENDING) && waited.compareTo(PICKUP_TIMEOUT) > 0) {
                    try {
                        registry.client()
                                .delete()
                                .withVersion(stat.getVersion())
                                .forPath(path);
                        throw new IllegalStateException("no orchestrator picked up the request within "
                                + PICKUP_TIMEOUT.toMillis() + " ms: is 'baton run' running for cluster "
                                + registry.cluster() + "? Nothing changed.");
                    } catch (KeeperException.BadVersionException e) {
                        continue; // picked up just now
                    }
                }
                if (waited.compareTo(timeout) > 0) {
                    throw new IllegalStateException("the switchover did not finish within " + timeout.toSeconds()
                            + " s; its progress stays visible in 'baton history' when it ends (request " + path + ")");
                }
                Thread.sleep(50);
            }
        } finally {
            OperationReport last = registry.readRequest(path)
                    .map(ClusterRegistry.Request::report)
                    .orElse(null);
            if (last == null || last.isFinished()) {
                registry.deleteRequest(path);
            }
        }
    }
}
