package dev.baton.orchestrator.admin;

import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.detect.RecordCheck;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryPaths;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * What {@code status} and the HTTP API flag about a cluster, from what is in ZooKeeper: the truth an operator's
 * script checks.
 */
final class ClusterHealth {
    private ClusterHealth() {}

    /** The id of the orchestrator that leads the cluster (the lowest latch participant), or null when none runs. */
    static String leader(CuratorFramework client, String cluster) throws Exception {
        List<String> participants;
        try {
            participants = client.getChildren().forPath(RegistryPaths.leader(cluster));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
        Optional<String> first =
                participants.stream().min(Comparator.comparing(p -> p.substring(p.lastIndexOf('-') + 1)));
        if (first.isEmpty()) {
            return null;
        }
        try {
            byte[] id = client.getData().forPath(RegistryPaths.leader(cluster) + "/" + first.get());
            return id.length == 0 ? first.get() : new String(id, StandardCharsets.UTF_8);
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
    }

    /** When the newest node state was written to ZooKeeper (its znode's mtime), or null when none ever was. */
    static Instant newestObservation(CuratorFramework client, String cluster, Map<String, NodeState> states)
            throws Exception {
        long newest = 0;
        for (String id : states.keySet()) {
            Stat stat = client.checkExists().forPath(RegistryPaths.node(cluster, id));
            if (stat != null) {
                newest = Math.max(newest, stat.getMtime());
            }
        }
        return newest == 0 ? null : Instant.ofEpochMilli(newest);
    }

    /** Node states older than this were not refreshed by a running leader: three polls, at least 5 s. */
    static Duration staleAfter(ClusterConfig cluster) {
        return cluster.pollInterval().multipliedBy(3).compareTo(Duration.ofSeconds(5)) > 0
                ? cluster.pollInterval().multipliedBy(3)
                : Duration.ofSeconds(5);
    }

    static List<String> problems(
            ClusterConfig cluster,
            ClusterRegistry registry,
            Optional<PrimaryRecord> primary,
            Map<String, NodeState> states,
            String leader,
            Instant observedAt)
            throws Exception {
        List<String> problems = new ArrayList<>();
        if (leader == null) {
            problems.add("no orchestrator is running for cluster " + cluster.name()
                    + ": nothing watches it and nothing fails over");
        }
        if (observedAt == null) {
            problems.add("no node state was ever published: the status below is not an observation");
        } else {
            Duration age = Duration.between(observedAt, Instant.now());
            if (age.compareTo(staleAfter(cluster)) > 0) {
                problems.add("the node states are " + age.toSeconds() + " s old: no orchestrator has updated them"
                        + " since (the table shows what was last seen)");
            }
        }
        if (primary.isPresent()) {
            long highest = registry.readHistory().stream()
                    .filter(h -> h.outcome().startsWith("succeeded"))
                    .mapToLong(HistoryEntry::epoch)
                    .max()
                    .orElse(0);
            String problem = RecordCheck.problem(cluster, cluster.dialect().key(), primary.get(), highest);
            if (problem != null) {
                problems.add(problem + ". " + RecordCheck.remedy(cluster.name()));
            } else {
                NodeState s = states.get(primary.get().nodeId());
                if (s == null || !s.reachable() || s.role() != NodeRole.PRIMARY || s.fenced()) {
                    problems.add("the published primary " + primary.get().nodeId() + " is not running as a writable"
                            + " primary ("
                            + (s == null
                                    ? "never observed"
                                    : s.reachable() ? s.role() + (s.fenced() ? ", read-only" : "") : "unreachable")
                            + ")");
                }
            }
        }
        return problems;
    }
}
