package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code baton} command. */
@Command(
        name = "baton",
        mixinStandardHelpOptions = true,
        version = "baton 0.1.0",
        description = "Failover orchestrator for replicated PostgreSQL and MySQL/MariaDB clusters.",
        subcommands = {
            RunCommand.class,
            StatusCommand.class,
            SwitchoverCommand.class,
            PauseCommand.class,
            ResumeCommand.class,
            HistoryCommand.class,
            ZkCommand.class,
            CommandLine.HelpCommand.class
        })
public final class BatonCli {
    public static void main(String[] args) {
        System.exit(execute(new CommandLine(new BatonCli()), args));
    }

    /** Runs a command line with Baton's error handling: configuration and usage errors are one clear line. */
    public static int execute(CommandLine cli, String[] args) {
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException
                    || e instanceof IllegalStateException
                    || e instanceof IllegalArgumentException) {
                commandLine.getErr().println("baton: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
