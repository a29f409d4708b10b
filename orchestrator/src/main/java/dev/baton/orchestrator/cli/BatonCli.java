package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.ConfigException;
import dev.baton.registry.RegistryJson;
import org.apache.zookeeper.KeeperException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParseResult;

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

    /**
     * Runs a command line with Baton's error handling: configuration, usage and ZooKeeper access errors are one
     * clear line on stderr and exit code 2; anything else is a bug and keeps its stack trace. Under {@code --json}
     * the error is also printed on stdout as {@code {"error": "..."}}, so that stdout is always JSON.
     */
    public static int execute(CommandLine cli, String[] args) {
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = oneLine(e);
            if (message == null) {
                throw e;
            }
            if (asksForJson(parseResult)) {
                commandLine
                        .getOut()
                        .println(RegistryJson.mapper().createObjectNode().put("error", message));
                commandLine.getOut().flush();
            }
            commandLine.getErr().println("baton: " + message);
            return 2;
        });
        return cli.execute(args);
    }

    private static boolean asksForJson(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--json")) {
                return true;
            }
        }
        return false;
    }

    private static String oneLine(Exception e) {
        if (e instanceof ConfigException
                || e instanceof IllegalStateException
                || e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        KeeperException.NoAuthException noAuth = ZooKeeperAccess.noAuthIn(e);
        if (noAuth != null) { // commands explain it with the ACL at hand (ClusterOptions.withZooKeeper)
            return "ZooKeeper refused access to " + noAuth.getPath() + " (NoAuth): check zookeeper.digest";
        }
        return null;
    }
}
