package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "pause", description = "Stop automatic failover for a cluster (planned switchovers stay allowed).")
final class PauseCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Option(names = "--reason", defaultValue = "paused by operator", description = "why, shown to other operators")
    String reason;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = options.load();
        ClusterConfig target = options.cluster(loaded);
        return ClusterOptions.withZooKeeper(loaded, client -> {
            boolean changed = new ClusterRegistry(client, target.name()).pause(reason + " (" + Instant.now() + ")");
            spec.commandLine()
                    .getOut()
                    .println(
                            changed
                                    ? "cluster " + target.name() + " paused: no automatic failover until 'baton resume'"
                                    : "cluster " + target.name() + " was paused already");
            return 0;
        });
    }
}
