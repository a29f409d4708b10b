package dev.baton.orchestrator.detect;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.registry.PrimaryRecord;
import java.util.Optional;

/**
 * Whether a primary record read from ZooKeeper can be trusted against the configuration: a record that names a node
 * the cluster does not have, another address or dialect, or an epoch lower than one already seen was not written by
 * Baton (or was written by a Baton with another configuration), and the orchestrator acts on nothing it implies.
 */
public final class RecordCheck {
    private RecordCheck() {}

    /**
     * What is wrong with {@code record}, or null when nothing is. {@code highestEpoch} is the highest epoch seen
     * before (in the history, or by this process), 0 when none.
     */
    public static String problem(ClusterConfig cluster, String dialectKey, PrimaryRecord record, long highestEpoch) {
        Optional<NodeConfig> node = cluster.node(record.nodeId());
        if (node.isEmpty()) {
            return "the primary record names node '" + shorten(record.nodeId()) + "', which is not a node of cluster "
                    + cluster.name();
        }
        if (!record.address().equals(node.get().address())
                && !record.address().equals(node.get().streamAddress())) {
            return "the primary record gives " + record.nodeId() + " the address " + shorten(record.address())
                    + ", the configuration " + node.get().address();
        }
        if (!record.dialect().equals(dialectKey)) {
            return "the primary record says dialect '" + shorten(record.dialect()) + "', the configuration "
                    + dialectKey;
        }
        if (record.epoch() < highestEpoch) {
            return "the primary record's epoch " + record.epoch() + " is lower than epoch " + highestEpoch
                    + " seen before: it went backwards";
        }
        return null;
    }

    /** What an operator should do about a rejected record. */
    public static String remedy(String cluster) {
        return "Baton fences nothing and fails over nothing because of it; check which node really is the primary,"
                + " then delete /clusters/" + cluster + "/primary (Baton publishes the only writable primary again) or"
                + " write a valid record";
    }

    private static String shorten(String value) {
        return value.length() > 40 ? value.substring(0, 40) + "..." : value;
    }
}
