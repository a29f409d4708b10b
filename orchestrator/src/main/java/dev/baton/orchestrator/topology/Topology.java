package dev.baton.orchestrator.topology;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** One round of probes over every node of a cluster: an immutable snapshot the pure decisions work on. */
public record Topology(String cluster, Instant at, List<NodeObservation> nodes) {
    public Topology {
        nodes = List.copyOf(nodes);
    }

    public Optional<NodeObservation> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }

    public List<NodeObservation> replicas() {
        return nodes.stream().filter(NodeObservation::isReplica).toList();
    }
}
