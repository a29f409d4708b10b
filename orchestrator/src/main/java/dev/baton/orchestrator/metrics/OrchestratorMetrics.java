package dev.baton.orchestrator.metrics;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;

/**
 * The orchestrator's Prometheus metrics (names and meaning: docs/api.md). Node gauges and probe timings come from the
 * rounds of the cluster's leader ({@link ClusterEvent.Listener#observed}); phase durations from its events;
 * operations by outcome from the history in ZooKeeper, read when scraped, so every orchestrator reports the same
 * counts whichever of them acted.
 */
public final class OrchestratorMetrics implements ClusterEvent.Listener {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final BatonConfig config;
    /** Per cluster and node: the last state the leader published, or absent (gauges then read NaN). */
    private final Map<String, Map<String, NodeState>> states = new ConcurrentHashMap<>();
    /** Per cluster: when the pending phases began (suspect, dead, promoted, switchover started). */
    private final Map<String, Phases> phases = new ConcurrentHashMap<>();
    /** Per cluster: the history entries counted already, and the counts by kind and outcome. */
    private final Map<String, Set<String>> countedHistory = new ConcurrentHashMap<>();

    private final Map<String, AtomicLong> operations = new ConcurrentHashMap<>();

    public OrchestratorMetrics(BatonConfig config, Predicate<String> leads) {
        this.config = config;
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        for (ClusterConfig cluster : config.clusters()) {
            String c = cluster.name();
            states.put(c, new ConcurrentHashMap<>());
            phases.put(c, new Phases());
            countedHistory.put(c, ConcurrentHashMap.newKeySet());
            Gauge.builder("baton.cluster.leader", () -> leads.test(c) ? 1 : 0)
                    .description("1 while this orchestrator leads the cluster (probes and acts), else 0")
                    .tag("cluster", c)
                    .register(registry);
            boolean bytes = cluster.dialect() == ClusterConfig.Dialect.POSTGRESQL;
            for (NodeConfig node : cluster.nodes()) {
                String n = node.id();
                nodeGauge("baton.node.up", "1 when the node answered its last probe", c, n, s -> s.reachable() ? 1 : 0);
                nodeGauge(
                        bytes ? "baton.node.lag.bytes" : "baton.node.lag.transactions",
                        bytes
                                ? "how far the replica's replayed WAL is behind the primary, in bytes"
                                : "how many transactions the replica has not executed yet",
                        c,
                        n,
                        s -> s.lagBytes() < 0 ? Double.NaN : s.lagBytes());
                nodeGauge(
                        "baton.node.lag.seconds",
                        "the replica's replay delay in seconds",
                        c,
                        n,
                        s -> s.lagSeconds() < 0 ? Double.NaN : s.lagSeconds());
                nodeGauge(
                        "baton.node.streaming",
                        "1 when the replica's receiver is connected to its upstream",
                        c,
                        n,
                        s -> s.streaming() ? 1 : 0);
                nodeGauge(
                        "baton.node.needs.rejoin",
                        "1 when the node was demoted or diverged and must be rejoined",
                        c,
                        n,
                        s -> s.needsRejoin() ? 1 : 0);
                for (NodeRole role : NodeRole.values()) {
                    Gauge.builder("baton.node.role", () -> {
                                NodeState s = states.get(c).get(n);
                                return s == null ? Double.NaN : s.role() == role ? 1 : 0;
                            })
                            .description("1 for the role the node was last seen in (primary, replica, unknown)")
                            .tags("cluster", c, "node", n, "role", role.name().toLowerCase(Locale.ROOT))
                            .register(registry);
                }
            }
        }
    }

    private void nodeGauge(
            String name,
            String description,
            String cluster,
            String node,
            java.util.function.ToDoubleFunction<NodeState> f) {
        Gauge.builder(name, () -> {
                    NodeState s = states.get(cluster).get(node);
                    return s == null ? Double.NaN : f.applyAsDouble(s);
                })
                .description(description + " (NaN when this orchestrator does not lead or never saw the node)")
                .tags("cluster", cluster, "node", node)
                .register(registry);
    }

    @Override
    public void observed(String cluster, List<NodeState> round, Map<String, Duration> probeTimes) {
        Map<String, NodeState> byNode = states.get(cluster);
        if (byNode == null) {
            return;
        }
        for (NodeState s : round) {
            byNode.put(s.nodeId(), s);
            if (!s.reachable()) {
                Counter.builder("baton.probe.failures")
                        .description("probes that failed or timed out")
                        .tags("cluster", cluster, "node", s.nodeId())
                        .register(registry)
                        .increment();
            }
        }
        probeTimes.forEach((node, time) -> Timer.builder("baton.probe")
                .description("how long a probe of the node took (a timed-out probe counts as the probe timeout)")
                .tags("cluster", cluster, "node", node)
                .register(registry)
                .record(time));
        Phases p = phases.get(cluster);
        synchronized (p) {
            NodeState suspect = p.suspectNode == null ? null : byNode.get(p.suspectNode);
            if (p.deadAt == null && suspect != null && suspect.reachable()) {
                p.suspectAt = null; // a false alarm: the next detection starts from its own first failed probe
                p.suspectNode = null;
            }
        }
    }

    @Override
    public void on(ClusterEvent event) {
        Phases p = phases.get(event.cluster());
        if (p == null) {
            return;
        }
        Counter.builder("baton.events")
                .description("events the orchestrator emitted while it led the cluster, by kind")
                .tags("cluster", event.cluster(), "kind", event.kind().name().toLowerCase(Locale.ROOT))
                .register(registry)
                .increment();
        synchronized (p) {
            switch (event.kind()) {
                case PRIMARY_SUSPECT -> {
                    if (p.suspectAt == null) {
                        p.suspectAt = event.at();
                        p.suspectNode = event.node();
                    }
                }
                case PRIMARY_DEAD -> {
                    phase(event.cluster(), "failover", "detection", p.suspectAt, event.at());
                    p.deadAt = event.at();
                    p.suspectAt = null;
                    p.suspectNode = null;
                }
                case PROMOTED -> {
                    phase(event.cluster(), "failover", "promotion", p.deadAt, event.at());
                    p.promotedAt = event.at();
                    p.deadAt = null;
                }
                case SWITCHOVER_STARTED -> p.switchoverAt = event.at();
                case PUBLISHED -> {
                    phase(event.cluster(), "failover", "publication", p.promotedAt, event.at());
                    phase(event.cluster(), "switchover", "promotion-and-publication", p.switchoverAt, event.at());
                    p.promotedAt = null;
                    p.switchoverAt = null;
                }
                case LEADING, STANDING_BY -> {
                    p.clear();
                    states.get(event.cluster()).clear();
                }
                default -> {}
            }
        }
    }

    private void phase(String cluster, String kind, String phase, Instant from, Instant to) {
        if (from == null || to.isBefore(from)) {
            return;
        }
        Timer.builder("baton.operation.phase")
                .description("detection (first failed probe to dead), promotion (dead to promoted) and publication"
                        + " (promoted to published) of failovers; start to publication of switchovers")
                .tags("cluster", cluster, "kind", kind, "phase", phase)
                .register(registry)
                .record(Duration.between(from, to));
    }

    /**
     * Counts the finished operations in the clusters' history that were not counted yet, then renders every metric
     * in Prometheus' text format.
     */
    public String scrape(CuratorFramework client) {
        for (ClusterConfig cluster : config.clusters()) {
            try {
                countHistory(cluster.name(), new ClusterRegistry(client, cluster.name()).readHistory());
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                // ZooKeeper unreachable: the counters keep their values; baton_zookeeper_connected says why
            }
        }
        return registry.scrape();
    }

    void countHistory(String cluster, List<HistoryEntry> history) {
        Set<String> counted = countedHistory.get(cluster);
        for (HistoryEntry h : history) {
            if (counted.add(h.id())) {
                String outcome = h.outcome().split("[ :(]", 2)[0];
                operations
                        .computeIfAbsent(cluster + "\u0000" + h.kind() + "\u0000" + outcome, key -> {
                            AtomicLong count = new AtomicLong();
                            FunctionCounter.builder("baton.operations", count, AtomicLong::get)
                                    .description("finished failovers and switchovers in the cluster's history, by"
                                            + " outcome (succeeded, refused, cancelled, failed, rolled-back)")
                                    .tags("cluster", cluster, "kind", h.kind(), "outcome", outcome)
                                    .register(registry);
                            return count;
                        })
                        .incrementAndGet();
            }
        }
    }

    /** Registers a gauge that reads a boolean, for meters owned by others (ZooKeeper connection). */
    public void flag(String name, String description, java.util.function.BooleanSupplier value) {
        Gauge.builder(name, () -> value.getAsBoolean() ? 1 : 0)
                .description(description)
                .register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** When the phases of the operation in progress began; guarded by itself. */
    private static final class Phases {
        Instant suspectAt;
        String suspectNode;
        Instant deadAt;
        Instant promotedAt;
        Instant switchoverAt;

        void clear() {
            suspectAt = null;
            suspectNode = null;
            deadAt = null;
            promotedAt = null;
            switchoverAt = null;
        }
    }
}
