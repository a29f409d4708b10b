package dev.baton.bench;

import ch.qos.logback.classic.Level;
import dev.baton.orchestrator.cli.BatonCli;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** The full {@code baton} command of the distribution: the orchestrator's commands plus demo and bench. */
public final class BatonMain {
    private BatonMain() {}

    /** The demo and the benchmarks print their own story; the orchestrator's INFO lines would drown it. */
    static void quietLogs() {
        if (System.getenv("BATON_LOG_LEVEL") == null
                && LoggerFactory.getLogger("dev.baton") instanceof ch.qos.logback.classic.Logger logger) {
            logger.setLevel(Level.WARN);
        }
    }

    /** Nothing more to log: the process is shutting down. */
    static void silenceLogs() {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(Level.OFF);
            root.getLoggerContext().getLoggerList().forEach(l -> l.setLevel(Level.OFF));
        }
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new BatonCli())
                .addSubcommand("demo", new DemoCommand())
                .addSubcommand("bench", new BenchCommand())
                .addSubcommand("sandbox", new SandboxCommand())
                .addSubcommand("agent", new dev.baton.agent.AgentCommand());
        cli.getSubcommands().get("zk").addSubcommand("serve", new ZkServeCommand());
        System.exit(BatonCli.execute(cli, args));
    }
}
