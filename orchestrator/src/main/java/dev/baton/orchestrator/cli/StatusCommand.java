package dev.baton.orchestrator.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.baton.orchestrator.admin.ClusterStatus;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.NodeConfig;
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
                ClusterStatus status =
                        ClusterStatus.read(client, cluster, loaded.zookeeper().digest() != null);
                problems |= !status.problems().isEmpty();
                if (json) {
                    all.add(status.toJson(Instant.now()));
                } else {
                    printTable(out, status);
                    out.println(
                            "Orchestrator: " + (status.leader() == null ? "NONE RUNNING" : status.leader() + " leads"));
                    status.problems().forEach(p -> out.println("PROBLEM: " + p));
                    status.warnings().forEach(w -> out.println("warning: " + w));
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

    private static void printTable(PrintWriter out, ClusterStatus status) {
        ClusterConfig cluster = status.cluster();
        Optional<PrimaryRecord> primary = status.primary();
        Map<String, NodeState> states = status.states();
        boolean paused = status.paused();
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
            "Last seen",
            "Agent"
        });
        for (NodeConfig n : cluster.nodes()) {
            NodeState s = states.get(n.id());
            rows.add(new String[] {
                n.id(),
                n.address(),
                status.role(n, s),
                ClusterStatus.state(s),
                s == null || s.timeline() == 0 ? "" : Long.toString(s.timeline()),
                s == null || s.lagBytes() < 0 ? "" : Long.toString(s.lagBytes()),
                s == null || s.lastSeen() == null ? "never" : age(s.lastSeen()),
                status.agent(n)
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
        status.agents()
                .forEach((node, a) -> out.println("  agent " + node + ": " + a.detail()
                        + (a.changedAt() == null ? "" : " (" + age(a.changedAt()) + ")")));
        for (NodeConfig n : cluster.nodes()) {
            NodeState s = states.get(n.id());
            if (s != null && s.advice() != null) {
                for (String line : s.advice()) {
                    out.println("  hint " + n.id() + ": " + line);
                }
            }
        }
    }

    private static String age(Instant seen) {
        long ms = Duration.between(seen, Instant.now()).toMillis();
        return ms < 1000 ? ms + " ms ago" : (ms / 1000) + " s ago";
    }
}
