package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "resume", description = "Allow automatic failover for a paused cluster again.")
final class ResumeCommand implements Callable<Integer> {
    @Option(
            names = {"-c", "--config"},
            required = true,
            description = "YAML configuration file")
    Path config;

    @Option(names = "--cluster", description = "the cluster (needed when the configuration has several)")
    String cluster;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = ConfigLoader.load(config);
        ClusterConfig target = CliSupport.cluster(loaded, cluster);
        try (CuratorFramework client = CliSupport.connect(loaded)) {
            boolean changed = new ClusterRegistry(client, target.name()).resume();
            spec.commandLine()
                    .getOut()
                    .println(
                            changed
                                    ? "cluster " + target.name() + " resumed: automatic failover is on"
                                    : "cluster " + target.name() + " was not paused");
        }
        return 0;
    }
}
