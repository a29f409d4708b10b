package dev.baton.orchestrator.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.InvalidRecordException;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.registry.AgentRecord;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;

/**
 * One cluster as ZooKeeper shows it: the published primary, the leader's last observation of every node, pause,
 * which orchestrator leads, and what is wrong. {@code baton status} prints it; the HTTP API serves it as JSON.
 *
 * @param observedAt when the newest node state was written, or null when none ever was
 * @param problems what {@code status --check} fails on
 * @param warnings what is risky but not broken
 * @param agents the records of the agents connected to ZooKeeper, by node
 */
public record ClusterStatus(
        ClusterConfig cluster,
        Optional<PrimaryRecord> primary,
        Map<String, NodeState> states,
        boolean paused,
        String leader,
        Instant observedAt,
        List<String> problems,
        List<String> warnings,
        Map<String, AgentRecord> agents) {

    public ClusterStatus {
        states = Map.copyOf(states);
        agents = Map.copyOf(agents);
        problems = List.copyOf(problems);
        warnings = List.copyOf(warnings);
    }

    /** Reads everything from ZooKeeper; {@code digestSet} says whether the registry is protected by digest ACLs. */
    public static ClusterStatus read(CuratorFramework client, ClusterConfig cluster, boolean digestSet)
            throws Exception {
        ClusterRegistry registry = new ClusterRegistry(client, cluster.name());
        List<String> problems = new ArrayList<>();
        Optional<PrimaryRecord> primary;
        try {
            primary = registry.readPrimary().map(Versioned::value);
        } catch (InvalidRecordException e) {
            primary = Optional.empty();
            problems.add(e.getMessage());
        }
        Map<String, NodeState> states = registry.readNodeStates().stream()
                .filter(st -> cluster.node(st.nodeId()).isPresent())
                .collect(Collectors.toMap(NodeState::nodeId, Function.identity()));
        String leader = ClusterHealth.leader(client, cluster.name());
        Instant observedAt = ClusterHealth.newestObservation(client, cluster.name(), states);
        problems.addAll(ClusterHealth.problems(cluster, registry, primary, states, leader, observedAt));
        Map<String, AgentRecord> agents = agents(client, cluster);
        for (NodeConfig n : cluster.nodes()) {
            if (n.agent() && !agents.containsKey(n.id())) {
                problems.add("node " + n.id() + ": its agent is configured (agent: true) but not connected to"
                        + " ZooKeeper: its death is inferred and its fence binds only Baton's wrappers");
            }
        }
        List<String> warnings = new java.util.ArrayList<>();
        if (!digestSet) {
            warnings.add("zookeeper.digest is not set: any ZooKeeper client can rewrite the primary record"
                    + " (see docs/configuration.md, ZooKeeper ACLs)");
        }
        List<String> unfenced = cluster.nodes().stream()
                .map(NodeConfig::id)
                .filter(id ->
                        !agents.containsKey(id) || !"stop".equals(agents.get(id).fence()))
                .toList();
        if (!unfenced.isEmpty()) {
            warnings.add(ADVISORY_FENCE.get(cluster.dialect())
                    + (unfenced.size() < cluster.nodes().size()
                            ? "; nodes without an agent that fences: " + String.join(", ", unfenced)
                            : ""));
        }
        warnings = List.copyOf(warnings);
        return new ClusterStatus(
                cluster, primary, states, registry.isPaused(), leader, observedAt, problems, warnings, agents);
    }

    /** The agents' records of {@code cluster}'s nodes; an unreadable one is left out. */
    private static Map<String, AgentRecord> agents(CuratorFramework client, ClusterConfig cluster) throws Exception {
        Map<String, AgentRecord> agents = new java.util.TreeMap<>();
        List<String> children;
        try {
            children = client.getChildren().forPath(RegistryPaths.agents(cluster.name()));
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
            return agents;
        }
        for (String node : children) {
            if (cluster.node(node).isEmpty()) {
                continue;
            }
            try {
                agents.put(
                        node,
                        RegistryJson.read(
                                client.getData().forPath(RegistryPaths.agent(cluster.name(), node)),
                                AgentRecord.class));
            } catch (org.apache.zookeeper.KeeperException.NoNodeException | IllegalArgumentException e) {
                // gone meanwhile, or not an agent's
            }
        }
        return agents;
    }

    /** The member's agent in a few words: none, absent (configured), or its server's state as the agent sees it. */
    public String agent(NodeConfig n) {
        AgentRecord a = agents.get(n.id());
        if (a == null) {
            return n.agent() ? "ABSENT" : "-";
        }
        return a.server() + ("none".equals(a.fence()) ? " (reports only)" : "");
    }

    /**
     * What Baton's fence of an old primary cannot stop (DESIGN rule 13), said in every status until a fence that binds
     * every client exists (the agent).
     */
    static final Map<ClusterConfig.Dialect, String> ADVISORY_FENCE = Map.of(
            ClusterConfig.Dialect.POSTGRESQL,
            "the fence of an old primary is advisory: default_transaction_read_only, which any session can turn off"
                    + " (SET, BEGIN READ WRITE); only Baton's wrappers are stopped for sure (docs/failure-modes.md)",
            ClusterConfig.Dialect.MARIADB,
            "the fence of an old primary is read_only, which accounts with SUPER or READ ONLY ADMIN ignore; only"
                    + " Baton's wrappers are stopped for sure (docs/failure-modes.md)",
            ClusterConfig.Dialect.MYSQL,
            "the fence of an old primary is super_read_only, which binds every account, but only once the"
                    + " orchestrator reaches the node: a node cut off from it is fenced only for Baton's wrappers"
                    + " (docs/failure-modes.md)");

    /** How old the node states are at {@code now}, or null when none was ever published. */
    public Duration dataAge(Instant now) {
        return observedAt == null ? null : Duration.between(observedAt, now);
    }

    /** True when the node states were refreshed recently enough to be a running leader's observation. */
    public boolean fresh(Instant now) {
        return observedAt != null && dataAge(now).compareTo(ClusterHealth.staleAfter(cluster)) <= 0;
    }

    public Optional<NodeState> state(String node) {
        return Optional.ofNullable(states.get(node));
    }

    /** The JSON of {@code status --json} and of {@code GET /clusters/{c}}. */
    public ObjectNode toJson(Instant now) {
        ObjectNode node = RegistryJson.mapper().createObjectNode();
        node.put("cluster", cluster.name());
        node.put("dialect", cluster.dialect().key());
        node.put("paused", paused);
        node.set(
                "primary",
                primary.map(p -> (JsonNode) RegistryJson.mapper().valueToTree(p))
                        .orElse(null));
        ArrayNode members = node.putArray("members");
        for (NodeConfig n : cluster.nodes()) {
            ObjectNode m = members.addObject();
            m.put("member", n.id());
            m.put("address", n.address());
            NodeState s = states.get(n.id());
            m.put("role", role(n, s));
            m.put("state", state(s));
            if (s != null) {
                m.set("observed", RegistryJson.mapper().valueToTree(s));
            }
            m.put("agentConfigured", n.agent());
            AgentRecord a = agents.get(n.id());
            if (a != null) {
                m.set("agent", RegistryJson.mapper().valueToTree(a));
            }
        }
        node.put("orchestrator", leader);
        if (observedAt == null) {
            node.putNull("observedAt");
            node.putNull("dataAgeMillis");
        } else {
            node.put("observedAt", observedAt.toString());
            node.put("dataAgeMillis", dataAge(now).toMillis());
        }
        problems.forEach(node.putArray("problems")::add);
        warnings.forEach(node.putArray("warnings")::add);
        return node;
    }

    /** The member's role as {@code status} shows it: Leader (the published primary), Replica, ... */
    public String role(NodeConfig n, NodeState s) {
        if (primary.isPresent() && primary.get().nodeId().equals(n.id())) {
            return "Leader";
        }
        if (s == null) {
            return "?";
        }
        return switch (s.role()) {
            case PRIMARY -> "Primary (stale)";
            case REPLICA -> "Replica";
            case UNKNOWN -> "?";
        };
    }

    /** The member's state in a few words: running, streaming, unreachable: ..., needs rejoin, ... */
    public static String state(NodeState s) {
        if (s == null) {
            return "not observed";
        }
        if (s.needsRejoin()) {
            if (!s.reachable()) {
                return "down, needs rejoin";
            }
            if (s.role() == NodeRole.PRIMARY && !s.fenced()) {
                return "WRITABLE, not published: to be fenced";
            }
            return s.role() == NodeRole.REPLICA ? "diverged or demoted, needs rejoin" : "fenced, needs rejoin";
        }
        if (!s.reachable()) {
            return "unreachable" + (s.error() == null ? "" : ": " + shorten(s.error()));
        }
        return switch (s.role()) {
            case PRIMARY -> s.fenced() ? "fenced" : "running";
            case REPLICA -> (s.streaming() ? "streaming" : "not streaming")
                    + (s.error() == null ? "" : ": " + shorten(s.error())); // e.g. a required setting is off
            case UNKNOWN -> "unknown";
        };
    }

    private static String shorten(String text) {
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
