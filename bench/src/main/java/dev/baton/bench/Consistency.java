package dev.baton.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The consistency checker: what every attempted write, the epochs published in ZooKeeper and the rows each server
 * holds at the end add up to. Pure: the scenario collects the inputs, this only counts.
 *
 * <p>Definitions:
 *
 * <ul>
 *   <li><b>lost</b>: acknowledged, not on the final primary ({@link #UNKNOWN} when it does not answer).
 *   <li><b>uncertain</b>: failed (any SQLState, a connection error for nearly all), yet on the final primary.
 *   <li><b>split brain</b>: acknowledged by a node after an epoch naming another node had been published, unless
 *       the next epoch names this node and was seen within {@link #SEEN_LAG_NANOS} of the acknowledgement (the
 *       epoch watch polls; the wrapper may see a record a few milliseconds before it does).
 *   <li><b>diverged</b>: a node running as a replica at the end with rows the final primary lacks, or still missing
 *       rows the final primary has (after the caller waited for it to catch up).
 *   <li><b>false failovers</b>: publications of a new primary beyond what the scenario expects.
 * </ul>
 */
final class Consistency {
    /** How much later than the wrapper the epoch watch may see a new record. */
    static final long SEEN_LAG_NANOS = 200_000_000L;
    /** Lost and uncertain writes when the final primary does not answer (nothing to compare with). */
    static final long UNKNOWN = -1;

    private Consistency() {}

    /** A primary record as the epoch watch saw it appear. */
    record Epoch(long epoch, String nodeId, long seenNanos) {}

    /** What one node holds at the end: its role and its rows; both empty when it did not answer. */
    record NodeEnd(String nodeId, Optional<NodeRole> role, Optional<Set<Long>> rows) {}

    /**
     * Everything a scenario's inputs add up to.
     *
     * @param recoveryMs the fault to the first write that started after it and was acknowledged by the final
     *     primary; -1 when there is none
     * @param longestGapMs over each application, the longest time between two acknowledged writes after the fault
     *     (or from the fault to its first one)
     * @param diverged per replica that diverged: {@code db2 +3/-0} (rows it has that the primary lacks / lacks)
     */
    record Report(
            long attempted,
            long acknowledged,
            long lostAcknowledged,
            long uncertain,
            long splitBrain,
            List<String> diverged,
            long promotions,
            long falseFailovers,
            int promotedServers,
            int writablePrimaries,
            Map<String, Long> errors,
            long recoveryMs,
            long longestGapMs,
            String finalPrimary) {}

    static Report check(
            List<Writer.Write> writes,
            Map<Integer, String> nodeByPort,
            List<Epoch> epochs,
            List<NodeEnd> ends,
            String failedPrimary,
            long faultNanos,
            int expectedPromotions) {
        List<Epoch> sorted =
                epochs.stream().sorted(Comparator.comparingLong(Epoch::epoch)).toList();
        String finalPrimary =
                sorted.isEmpty() ? null : sorted.get(sorted.size() - 1).nodeId();
        Optional<Set<Long>> primaryRows = ends.stream()
                .filter(e -> e.nodeId().equals(finalPrimary))
                .findFirst()
                .flatMap(NodeEnd::rows);
        Set<Long> onPrimary = primaryRows.orElse(Set.of());
        long acknowledged = 0;
        long lost = 0;
        long uncertain = 0;
        long splitBrain = 0;
        Map<String, Long> errors = new TreeMap<>();
        for (Writer.Write w : writes) {
            if (w.acknowledged()) {
                acknowledged++;
                if (!onPrimary.contains(w.id())) {
                    lost++;
                }
                if (isSplitBrain(w, nodeByPort.get(w.port()), sorted)) {
                    splitBrain++;
                }
            } else {
                errors.merge(w.sqlState() == null ? "none" : w.sqlState(), 1L, Long::sum);
                if (onPrimary.contains(w.id())) {
                    uncertain++;
                }
            }
        }
        List<String> diverged = new ArrayList<>();
        int promotedServers = 0;
        int writable = 0;
        for (NodeEnd end : ends) {
            if (end.role().isEmpty()) {
                continue;
            }
            NodeRole role = end.role().get();
            if (!role.replica() && !end.nodeId().equals(failedPrimary)) {
                promotedServers++;
            }
            if (role.writablePrimary()) {
                writable++;
            }
            if (role.replica() && end.rows().isPresent() && primaryRows.isPresent()) {
                Set<Long> rows = end.rows().get();
                long extra = rows.stream().filter(id -> !onPrimary.contains(id)).count();
                long missing =
                        onPrimary.stream().filter(id -> !rows.contains(id)).count();
                if (extra > 0 || missing > 0) {
                    diverged.add(end.nodeId() + " +" + extra + "/-" + missing);
                }
            }
        }
        long promotions = Math.max(0, sorted.size() - 1);
        return new Report(
                writes.size(),
                acknowledged,
                primaryRows.isPresent() ? lost : UNKNOWN,
                primaryRows.isPresent() ? uncertain : UNKNOWN,
                splitBrain,
                diverged,
                promotions,
                Math.max(0, promotions - expectedPromotions),
                promotedServers,
                writable,
                errors,
                recoveryMs(writes, nodeByPort, finalPrimary, faultNanos),
                longestGapMs(writes, faultNanos),
                finalPrimary);
    }

    /** Acknowledged by a node after an epoch naming another node was seen (see the class comment). */
    static boolean isSplitBrain(Writer.Write w, String node, List<Epoch> sorted) {
        Epoch current = null;
        Epoch next = null;
        for (Epoch e : sorted) {
            if (e.seenNanos() <= w.endNanos()) {
                current = e;
            } else if (next == null) {
                next = e;
            }
        }
        if (current == null || current.nodeId().equals(node)) {
            return false;
        }
        boolean seenLate =
                next != null && next.nodeId().equals(node) && next.seenNanos() - w.endNanos() <= SEEN_LAG_NANOS;
        return !seenLate;
    }

    static long recoveryMs(
            List<Writer.Write> writes, Map<Integer, String> nodeByPort, String primary, long faultNanos) {
        return writes.stream()
                .filter(w -> w.acknowledged() && w.startNanos() >= faultNanos)
                .filter(w -> primary != null && primary.equals(nodeByPort.get(w.port())))
                .mapToLong(w -> (w.endNanos() - faultNanos) / 1_000_000)
                .min()
                .orElse(-1);
    }

    static long longestGapMs(List<Writer.Write> writes, long faultNanos) {
        Map<String, List<Long>> acks = new TreeMap<>();
        long lastEnd = faultNanos;
        for (Writer.Write w : writes) {
            lastEnd = Math.max(lastEnd, w.endNanos());
            if (w.acknowledged() && w.endNanos() >= faultNanos) {
                acks.computeIfAbsent(w.app(), a -> new ArrayList<>()).add(w.endNanos());
            }
        }
        Set<String> apps = new HashSet<>();
        writes.forEach(w -> apps.add(w.app()));
        long longest = 0;
        for (String app : apps) {
            List<Long> ends = acks.getOrDefault(app, new ArrayList<>());
            ends.sort(null);
            long previous = faultNanos;
            for (long end : ends) {
                longest = Math.max(longest, end - previous);
                previous = end;
            }
            longest = Math.max(longest, lastEnd - previous); // an application that never wrote again
        }
        return longest / 1_000_000;
    }
}
