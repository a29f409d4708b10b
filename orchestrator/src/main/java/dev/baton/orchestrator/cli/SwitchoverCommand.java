package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.OperationReport;
import dev.baton.registry.RegistryJson;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "switchover",
        description = "Move the primary on purpose. The leading orchestrator carries it out; this command prints each"
                + " step as it happens and returns when the switchover has finished.")
final class SwitchoverCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Option(names = "--to", description = "the replica to promote (default: the best candidate, as for a failover)")
    String to;

    @Option(names = "--dry-run", description = "print the plan and the preflight verdicts; change nothing")
    boolean dryRun;

    @Option(names = "--yes", description = "do not ask for confirmation")
    boolean yes;

    @Option(
            names = "--json",
            description = "print the final report (with --dry-run: the plan) as JSON on stdout, and nothing else there;"
                    + " errors too, as {\"error\": \"...\"}. Needs --yes or --dry-run: JSON output cannot ask for"
                    + " confirmation, so without either the command is refused and nothing changes.")
    boolean json;

    @Option(
            names = "--timeout",
            defaultValue = "120",
            description = "seconds to wait for the switchover (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /** How long a request may stay unanswered before we conclude that no orchestrator leads the cluster. */
    private static final long PICKUP_TIMEOUT_MS = 15_000;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (json && !yes && !dryRun) {
            throw new IllegalArgumentException("--json: needs --yes (switch over without asking) or --dry-run (print"
                    + " the plan): JSON output cannot ask for confirmation; nothing changed");
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("--timeout: " + timeoutSeconds + " must be at least 1 second");
        }
        BatonConfig loaded = options.load();
        ClusterConfig target = options.cluster(loaded);
        if (to != null && target.node(to).isEmpty()) {
            throw new IllegalArgumentException("--to: '" + to + "' is not a node of cluster " + target.name()
                    + " (nodes: " + target.nodes().stream().map(n -> n.id()).toList() + ")");
        }
        PrintWriter out = spec.commandLine().getOut();
        return ClusterOptions.withZooKeeper(loaded, client -> {
            ClusterRegistry registry = new ClusterRegistry(client, target.name());
            if (!dryRun && !yes) {
                OperationReport plan = submit(registry, client, true, out, false);
                if (!plan.state().equals("planned")) {
                    return finish(plan, out);
                }
                plan.steps().forEach(step -> out.println("  " + step.detail()));
                out.println("plan: " + plan.message());
                if (System.console() == null) {
                    throw new IllegalArgumentException("no terminal to confirm on: pass --yes to switch over from "
                            + plan.fromNode() + " to " + plan.toNode());
                }
                out.print("Switch the primary of " + target.name() + " from " + plan.fromNode() + " to " + plan.toNode()
                        + "? [y/N] ");
                out.flush();
                String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                if (answer == null || !answer.strip().equalsIgnoreCase("y")) {
                    out.println("aborted: nothing changed");
                    return 1;
                }
            }
            return finish(submit(registry, client, dryRun, out, !json), out);
        });
    }

    private OperationReport submit(
            ClusterRegistry registry, CuratorFramework client, boolean plan, PrintWriter out, boolean printSteps)
            throws Exception {
        OperationReport request =
                OperationReport.request(UUID.randomUUID().toString(), "switchover", to, plan, Instant.now());
        String path = registry.createRequest(request);
        long start = System.currentTimeMillis();
        int printed = 0;
        try {
            while (true) {
                Stat stat = new Stat();
                OperationReport report;
                try {
                    report = RegistryJson.read(
                            client.getData().storingStatIn(stat).forPath(path), OperationReport.class);
                } catch (KeeperException.NoNodeException e) {
                    throw new IllegalStateException("the switchover request " + path + " was deleted by someone else");
                }
                if (printSteps) {
                    for (; printed < report.steps().size(); printed++) {
                        HistoryEntry.Step step = report.steps().get(printed);
                        out.printf("  %6d ms  %-20s %s%n", step.millis(), step.name(), step.detail());
                        out.flush();
                    }
                }
                if (report.isFinished()) {
                    return report;
                }
                long waited = System.currentTimeMillis() - start;
                if (report.state().equals(OperationReport.PENDING) && waited > PICKUP_TIMEOUT_MS) {
                    try {
                        client.delete().withVersion(stat.getVersion()).forPath(path);
                        throw new IllegalStateException("no orchestrator picked up the request within "
                                + PICKUP_TIMEOUT_MS + " ms: is 'baton run' running for cluster " + registry.cluster()
                                + "? Nothing changed.");
                    } catch (KeeperException.BadVersionException e) {
                        continue; // picked up just now
                    }
                }
                if (waited > timeoutSeconds * 1000L) {
                    throw new IllegalStateException("the switchover did not finish within " + timeoutSeconds
                            + " s; its progress stays visible in 'baton history' when it ends (request " + path + ")");
                }
                Thread.sleep(50);
            }
        } finally {
            OperationReport last = registry.readRequest(path)
                    .map(ClusterRegistry.Request::report)
                    .orElse(null);
            if (last == null || last.isFinished()) {
                registry.deleteRequest(path);
            }
        }
    }

    private int finish(OperationReport report, PrintWriter out) {
        if (json) {
            out.println(RegistryJson.writePretty(report));
        } else {
            out.println(report.state() + ": " + report.message());
            if (report.leftToDo() != null) {
                out.println("left to do: " + report.leftToDo());
            }
        }
        out.flush();
        return report.state().equals("succeeded") || report.state().equals("planned") ? 0 : 1;
    }
}
