package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.shell.ShellCommand;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * An operator's shell command that turns a former primary into a replica (see {@link ShellCommand}), with the
 * placeholders {@code {node} {host} {port} {primaryNode} {primaryHost} {primaryPort}}.
 */
final class RejoinCommand {
    private RejoinCommand() {}

    static String render(String template, NodeConfig node, NodeConfig primary) {
        return ShellCommand.render(
                template,
                Map.of(
                        "node", node.id(),
                        "host", node.host(),
                        "port", Integer.toString(node.port()),
                        "primaryNode", primary.id(),
                        // where the rejoined node streams from: the primary's replication address
                        "primaryHost", primary.streamHost(),
                        "primaryPort", Integer.toString(primary.streamPort())));
    }

    /** Runs the command; throws with its exit status and the tail of its output when it fails or times out. */
    static void run(String command, NodeConfig node, Duration timeout) throws IOException, InterruptedException {
        ShellCommand.Result result = ShellCommand.run(command, Map.of(), timeout, "baton-rejoin-" + node.id());
        if (result.exitCode() < 0) {
            throw new IOException(
                    "rejoin command for " + node.id() + " did not finish within " + timeout.toMillis() + " ms");
        }
        if (!result.succeeded()) {
            throw new IOException("rejoin command for " + node.id() + " exited with status " + result.exitCode() + ": "
                    + result.outputTail());
        }
    }
}
