package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "resume", description = "Allow automatic failover for a paused cluster again.")
final class ResumeCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = options.load();
        ClusterConfig target = options.cluster(loaded);
        return ClusterOptions.withZooKeeper(loaded, client -> {
            boolean changed = new ClusterRegistry(client, target.name()).resume();
            spec.commandLine()
                    .getOut()
                    .println(
                            changed
                                    ? "cluster " + target.name() + " resumed: automatic failover is on"
                                    : "cluster " + target.name() + " was not paused");
            return 0;
        });
    }
}
