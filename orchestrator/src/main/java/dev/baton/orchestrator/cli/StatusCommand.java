package dev.baton.orchestrator.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.coordination.InvalidRecordException;
import dev.baton.orchestrator.coordination.Versioned;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "status",
        description = "Show every node's role, state, timeline and lag, as the leading orchestrator last saw them.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(
            names = "--check",
            description = "exit 1 when a cluster has a problem: no orchestrator running, node states older than a few"
                    + " polls, a primary record Baton rejects, or a published primary that is not running (for scripts"
                    + " and monitoring)")
    boolean check;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = options.load();
        String only = options.cluster == null ? null : options.cluster(loaded).name();
        PrintWriter out = spec.commandLine().getOut();
        return ClusterOptions.withZooKeeper(loaded, client -> {
            ArrayNode all = RegistryJson.mapper().createArrayNode();
            boolean problems = false;
            for (ClusterConfig cluster : loaded.clusters()) {
                if (only != null && !only.equals(cluster.name())) {
                    continue;
                }
                ClusterRegistry registry = new ClusterRegistry(client, cluster.name());
                List<String> found = new ArrayList<>();
                Optional<PrimaryRecord> primary;
                try {
                    primary = registry.readPrimary().map(Versioned::value);
                } catch (InvalidRecordException e) {
                    primary = Optional.empty();
                    found.add(e.getMessage());
                }
                Map<String, NodeState> states = registry.readNodeStates().stream()
                        .filter(st -> cluster.node(st.nodeId()).isPresent())
                        .collect(Collectors.toMap(NodeState::nodeId, Function.identity()));
                boolean paused = registry.isPaused();
                String leader = ClusterHealth.leader(client, cluster.name());
                found.addAll(ClusterHealth.problems(client, cluster, registry, primary, states, leader));
                problems |= !found.isEmpty();
                List<String> warnings = loaded.zookeeper().digest() == null
                        ? List.of("zookeeper.digest is not set: any ZooKeeper client can rewrite the primary record"
                                + " (see docs/configuration.md, ZooKeeper ACLs)")
                        : List.of();
                if (json) {
                    ObjectNode node = toJson(cluster, primary, states, paused);
                    node.put("orchestrator", leader);
                    found.forEach(node.putArray("problems")::add);
                    warnings.forEach(node.putArray("warnings")::add);
                    all.add(node);
                } else {
                    printTable(out, cluster, primary, states, paused);
                    out.println("Orchestrator: " + (leader == null ? "NONE RUNNING" : leader + " leads"));
                    found.forEach(p -> out.println("PROBLEM: " + p));
                    warnings.forEach(w -> out.println("warning: " + w));
                }
            }
            if (json) {
                out.println(
                        RegistryJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(all));
            }
            out.flush();
            return check && problems ? 1 : 0;
        });
    }

    private static ObjectNode toJson(
            ClusterConfig cluster, Optional<PrimaryRecord> primary, Map<String, NodeState> states, boolean paused) {
        ObjectNode node = RegistryJson.mapper().createObjectNode();
        node.put("cluster", cluster.name());
        node.put("dialect", cluster.dialect().key());
        node.put("paused", paused);
        node.set(
                "primary",
                primary.map(p -> (com.fasterxml.jackson.databind.JsonNode)
                                RegistryJson.mapper().valueToTree(p))
                        .orElse(null));
        ArrayNode members = node.putArray("members");
        for (NodeConfig n : cluster.nodes()) {
            ObjectNode m = members.addObject();
            m.put("member", n.id());
            m.put("address", n.address());
            NodeState s = states.get(n.id());
            m.put("role", role(n, primary, s));
            m.put("state", state(s));
            if (s != null) {
                m.set("observed", RegistryJson.mapper().valueToTree(s));
            }
        }
        return node;
    }

    private static void printTable(
            PrintWriter out,
            ClusterConfig cluster,
            Optional<PrimaryRecord> primary,
            Map<String, NodeState> states,
            boolean paused) {
        out.println("Cluster: " + cluster.name() + " (" + cluster.dialect().key() + ")"
                + primary.map(p -> ", primary " + p.nodeId() + ", epoch " + p.epoch())
                        .orElse(", no primary published")
                + (paused ? ", PAUSED (no automatic failover)" : ""));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {
            "Member",
            "Host",
            "Role",
            "State",
            "TL",
            cluster.dialect() == ClusterConfig.Dialect.POSTGRESQL ? "Lag (bytes)" : "Lag (trx)",
            "Last seen"
        });
        for (NodeConfig n : cluster.nodes()) {
            NodeState s = states.get(n.id());
            rows.add(new String[] {
                n.id(),
                n.address(),
                role(n, primary, s),
                state(s),
                s == null || s.timeline() == 0 ? "" : Long.toString(s.timeline()),
                s == null || s.lagBytes() < 0 ? "" : Long.toString(s.lagBytes()),
                s == null || s.lastSeen() == null ? "never" : age(s.lastSeen())
            });
        }
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder border = new StringBuilder("+");
        for (int w : width) {
            border.append("-".repeat(w + 2)).append('+');
        }
        out.println(border);
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder("|");
            for (int i = 0; i < width.length; i++) {
                line.append(' ')
                        .append(String.format("%-" + width[i] + "s", rows.get(r)[i]))
                        .append(" |");
            }
            out.println(line);
            if (r == 0) {
                out.println(border);
            }
        }
        out.println(border);
        for (NodeConfig n : cluster.nodes()) {
            NodeState s = states.get(n.id());
            if (s != null && s.advice() != null) {
                for (String line : s.advice()) {
                    out.println("  hint " + n.id() + ": " + line);
                }
            }
        }
    }

    private static String role(NodeConfig n, Optional<PrimaryRecord> primary, NodeState s) {
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

    private static String state(NodeState s) {
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
            case REPLICA -> s.streaming() ? "streaming" : "not streaming";
            case UNKNOWN -> "unknown";
        };
    }

    private static String age(Instant seen) {
        long ms = Duration.between(seen, Instant.now()).toMillis();
        return ms < 1000 ? ms + " ms ago" : (ms / 1000) + " s ago";
    }

    private static String shorten(String text) {
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
