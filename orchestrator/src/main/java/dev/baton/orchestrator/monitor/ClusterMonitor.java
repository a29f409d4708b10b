package dev.baton.orchestrator.monitor;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Probes every node of a cluster in parallel and returns one immutable {@link Topology} per round. */
public final class ClusterMonitor implements Closeable {
    private final ClusterConfig cluster;
    private final Clock clock;
    private final Map<String, NodeProber> probers = new LinkedHashMap<>();

    public ClusterMonitor(ClusterConfig cluster, Dialect dialect, Clock clock) {
        this.cluster = cluster;
        this.clock = clock;
        for (NodeConfig node : cluster.nodes()) {
            probers.put(node.id(), new NodeProber(dialect, node, cluster.probeTimeout(), cluster.password(), clock));
        }
    }

    /** One round: every node probed at once, none waited for longer than the probe timeout. */
    public Topology probeAll() {
        probers.values().forEach(NodeProber::begin);
        long deadline = System.nanoTime() + cluster.probeTimeout().toNanos();
        List<NodeObservation> observations = new ArrayList<>(probers.size());
        for (NodeProber prober : probers.values()) {
            observations.add(prober.await(deadline));
        }
        return new Topology(cluster.name(), clock.instant(), observations);
    }

    /** How long each node's last probe took (a timed-out one: the probe timeout); nodes not probed yet are left out. */
    public Map<String, Duration> lastProbeTimes() {
        Map<String, Duration> times = new LinkedHashMap<>();
        probers.forEach((id, prober) -> {
            Duration d = prober.lastProbeTime();
            if (d != null) {
                times.put(id, d);
            }
        });
        return times;
    }

    @Override
    public void close() {
        probers.values().forEach(NodeProber::close);
    }
}
