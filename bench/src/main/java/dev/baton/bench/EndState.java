package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster as its servers describe it once a failover has settled.
 *
 * @param promoted former replicas now running as primary (the failed primary does not count, whatever it says)
 * @param writablePrimaries reachable servers, the failed one included, that run as primary and accept writes
 * @param unreachable servers that did not answer, the failed one included
 */
record EndState(int promoted, int writablePrimaries, int unreachable) {
    boolean oneWritablePrimary() {
        return writablePrimaries == 1;
    }

    /** Asks every server of the cluster for its role. */
    static EndState read(LocalCluster cluster, String failedPrimary) {
        Map<String, Optional<NodeRole>> roles = new LinkedHashMap<>();
        for (SandboxNode n : cluster.nodes()) {
            roles.put(n.id(), NodeRole.read(cluster, n));
        }
        return of(roles, failedPrimary);
    }

    /** Counts from each node's role (empty: did not answer). */
    static EndState of(Map<String, Optional<NodeRole>> roles, String failedPrimary) {
        int promoted = 0;
        int writable = 0;
        int unreachable = 0;
        for (Map.Entry<String, Optional<NodeRole>> e : roles.entrySet()) {
            if (e.getValue().isEmpty()) {
                unreachable++;
                continue;
            }
            NodeRole role = e.getValue().get();
            if (!role.replica() && !e.getKey().equals(failedPrimary)) {
                promoted++;
            }
            if (role.writablePrimary()) {
                writable++;
            }
        }
        return new EndState(promoted, writable, unreachable);
    }
}
