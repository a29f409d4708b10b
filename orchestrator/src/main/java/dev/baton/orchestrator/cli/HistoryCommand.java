package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.registry.HistoryEntry;
import dev.baton.registry.RegistryJson;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "history",
        description = "List finished failovers and switchovers with their steps, timings and outcome.")
final class HistoryCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = options.load();
        ClusterConfig target = options.cluster(loaded);
        PrintWriter out = spec.commandLine().getOut();
        return ClusterOptions.withZooKeeper(loaded, client -> {
            List<HistoryEntry> entries = new ClusterRegistry(client, target.name()).readHistory();
            if (json) {
                out.println(RegistryJson.writePretty(entries));
            } else if (entries.isEmpty()) {
                out.println("cluster " + target.name() + ": no failover or switchover yet");
            } else {
                for (HistoryEntry e : entries) {
                    out.printf(
                            "%s  %-10s %-24s %s -> %s  epoch %d  %d ms%s%n",
                            e.startedAt(),
                            e.kind(),
                            e.outcome(),
                            e.fromNode(),
                            e.toNode() == null ? "-" : e.toNode(),
                            e.epoch(),
                            Duration.between(e.startedAt(), e.finishedAt()).toMillis(),
                            e.kind().equals("failover") && e.dataLossBytes() >= 0
                                    ? "  estimated loss " + e.dataLossBytes() + " " + e.dataLossUnit()
                                    : "");
                    out.println("    " + e.reason());
                    for (HistoryEntry.Step step : e.steps()) {
                        out.printf("    %6d ms  %-22s %s%n", step.millis(), step.name(), step.detail());
                    }
                }
            }
            out.flush();
            return 0;
        });
    }
}
