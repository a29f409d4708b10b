package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.shell.ShellCommand;
import dev.baton.registry.HistoryEntry;
import java.io.Closeable;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator's hooks of one cluster. {@code preFailover} runs in the caller (it can veto); the others run on
 * their own thread and never block the HA loop. Every run is recorded in the history with its exit status and
 * duration (the pre-failover hook as a step of its failover).
 */
public final class Hooks implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Hooks.class);

    private final ClusterConfig cluster;
    private final ClusterRegistry registry;
    private final Clock clock;
    private final ExecutorService async;

    public Hooks(ClusterConfig cluster, ClusterRegistry registry, Clock clock) {
        this.cluster = cluster;
        this.registry = registry;
        this.clock = clock;
        this.async = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "baton-" + cluster.name() + "-hooks");
            t.setDaemon(true);
            return t;
        });
    }

    /** What a hook is told: the placeholders {@code {cluster} {oldPrimary} {newPrimary} {epoch} {loss} {reason}}. */
    public record Event(
            String operationId, String oldPrimary, String newPrimary, long epoch, long loss, String reason) {
        Map<String, String> values(String cluster) {
            Map<String, String> v = new LinkedHashMap<>();
            v.put("cluster", cluster);
            v.put("oldPrimary", oldPrimary == null ? "" : oldPrimary);
            v.put("newPrimary", newPrimary == null ? "" : newPrimary);
            v.put("epoch", Long.toString(epoch));
            v.put("loss", Long.toString(loss));
            v.put("reason", reason == null ? "" : reason);
            return v;
        }

        Map<String, String> environment(String cluster) {
            Map<String, String> env = new LinkedHashMap<>();
            values(cluster)
                    .forEach((k, value) ->
                            env.put("BATON_" + k.replaceAll("([A-Z])", "_$1").toUpperCase(), value));
            return env;
        }
    }

    /**
     * Runs {@code preFailover} and waits for it (up to the hooks' timeout). Returns null when the failover may go on
     * (no hook, or exit 0), else why it was vetoed. {@code steps} gets the run as a step.
     */
    String preFailover(Event event, StepLog steps) {
        String template = cluster.hooks().preFailover();
        if (template == null) {
            return null;
        }
        ShellCommand.Result result = run("preFailover", template, event);
        steps.done("hook preFailover", result.describe());
        return result.succeeded() ? null : "the preFailover hook vetoed the failover (" + result.describe() + ")";
    }

    void postFailover(Event event) {
        later("postFailover", cluster.hooks().postFailover(), event);
    }

    void postSwitchover(Event event) {
        later("postSwitchover", cluster.hooks().postSwitchover(), event);
    }

    void onFailoverRefused(Event event) {
        later("onFailoverRefused", cluster.hooks().onFailoverRefused(), event);
    }

    private void later(String name, String template, Event event) {
        if (template == null) {
            return;
        }
        async.execute(() -> {
            ShellCommand.Result result = run(name, template, event);
            Instant now = clock.instant();
            try {
                registry.appendHistory(new HistoryEntry(
                        event.operationId() + "-" + name,
                        "hook",
                        cluster.name(),
                        event.oldPrimary(),
                        event.newPrimary(),
                        event.epoch(),
                        result.succeeded() ? "succeeded" : "failed",
                        name + ": " + result.describe(),
                        -1,
                        null,
                        now.minusMillis(result.millis()),
                        now,
                        List.of(new HistoryEntry.Step(name, result.millis(), result.describe()))));
            } catch (Exception e) {
                log.warn("[{}] could not record the {} hook in the history: {}", cluster.name(), name, e.toString());
            }
        });
    }

    private ShellCommand.Result run(String name, String template, Event event) {
        try {
            ShellCommand.Result result = ShellCommand.run(
                    ShellCommand.render(template, event.values(cluster.name())),
                    event.environment(cluster.name()),
                    cluster.hooks().timeout(),
                    "baton-hook-" + name);
            if (result.succeeded()) {
                log.info("[{}] hook {}: {}", cluster.name(), name, result.describe());
            } else {
                log.warn("[{}] hook {}: {}", cluster.name(), name, result.describe());
            }
            return result;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("[{}] hook {} could not run: {}", cluster.name(), name, e.toString());
            return new ShellCommand.Result(127, 0, e.toString());
        }
    }

    @Override
    public void close() {
        async.shutdownNow();
        try {
            async.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
