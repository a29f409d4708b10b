package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.admin.SwitchoverRequest;
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
import java.time.Duration;
import java.util.concurrent.Callable;
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
                OperationReport plan = submit(registry, true, out, false);
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
            return finish(submit(registry, dryRun, out, !json), out);
        });
    }

    private OperationReport submit(ClusterRegistry registry, boolean plan, PrintWriter out, boolean printSteps)
            throws Exception {
        SwitchoverRequest request = SwitchoverRequest.submit(registry, to, plan);
        int[] printed = {0};
        return request.follow(Duration.ofSeconds(timeoutSeconds), steps -> {
            if (printSteps) {
                for (; printed[0] < steps.size(); printed[0]++) {
                    HistoryEntry.Step step = steps.get(printed[0]);
                    out.printf("  %6d ms  %-20s %s%n", step.millis(), step.name(), step.detail());
                    out.flush();
                }
            }
        });
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
