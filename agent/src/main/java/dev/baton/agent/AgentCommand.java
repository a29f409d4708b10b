package dev.baton.agent;

import dev.baton.orchestrator.config.AgentConfig;
import dev.baton.orchestrator.config.AgentConfigLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code baton agent --config agent.yml}: runs the node agent until SIGTERM or SIGINT. */
@Command(
        name = "agent",
        mixinStandardHelpOptions = true,
        description = "Run the agent of one database node, on its host: reports the server's exit within"
                + " milliseconds, fences it (kills every process) when it must not stay primary, and with"
                + " killHungServer stops a frozen one. Listens on no port.")
public final class AgentCommand implements Callable<Integer> {
    @Option(
            names = "--config",
            required = true,
            paramLabel = "FILE",
            description = "the agent's YAML configuration (see docs/agent.md)")
    Path config;

    @Override
    public Integer call() throws Exception {
        AgentConfig loaded = AgentConfigLoader.load(config);
        NodeAgent agent = new NodeAgent(loaded);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            agent.close();
                            stopped.countDown();
                        },
                        "baton-agent-shutdown"));
        agent.start();
        System.err.println("baton agent: node " + loaded.node() + " of cluster " + loaded.cluster() + ", watching "
                + loaded.pidFile() + "; fence " + loaded.fence().key() + ", lease "
                + loaded.leaseTimeout().toMillis() + " ms, killHungServer " + loaded.killHungServer());
        stopped.await();
        return 0;
    }

    /** The agent alone (the distribution's {@code baton agent} is the same command). */
    public static void main(String[] args) {
        System.exit(dev.baton.orchestrator.cli.BatonCli.execute(new CommandLine(new AgentCommand()), args));
    }
}
