package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.config.NodeConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An operator's shell command that turns a former primary into a replica, run with {@code /bin/sh -c} after its
 * placeholders are filled in: {@code {node} {host} {port} {primaryNode} {primaryHost} {primaryPort}}.
 * Values are single-quoted for the shell, so a placeholder can never inject a command.
 */
final class RejoinCommand {
    private RejoinCommand() {}

    static String render(String template, NodeConfig node, NodeConfig primary) {
        String rendered = template;
        for (Map.Entry<String, String> e : Map.of(
                        "{node}", node.id(),
                        "{host}", node.host(),
                        "{port}", Integer.toString(node.port()),
                        "{primaryNode}", primary.id(),
                        "{primaryHost}", primary.host(),
                        "{primaryPort}", Integer.toString(primary.port()))
                .entrySet()) {
            rendered = rendered.replace(e.getKey(), quote(e.getValue()));
        }
        return rendered;
    }

    static String quote(String value) {
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    /** Runs the command; throws with its exit status and the tail of its output when it fails or times out. */
    static void run(String command, NodeConfig node, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/sh", "-c", command)
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(
                () -> {
                    try {
                        output.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                    } catch (IOException ignored) {
                        // the process was killed
                    }
                },
                "baton-rejoin-" + node.id());
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // pg_rewind, ssh: not only the shell
            p.destroyForcibly();
            throw new IOException(
                    "rejoin command for " + node.id() + " did not finish within " + timeout.toMillis() + " ms");
        }
        reader.join(1000);
        if (p.exitValue() != 0) {
            String text = output.toString().strip();
            String tail = text.length() > 600 ? "..." + text.substring(text.length() - 600) : text;
            throw new IOException(
                    "rejoin command for " + node.id() + " exited with status " + p.exitValue() + ": " + tail);
        }
    }
}
