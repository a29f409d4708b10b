package dev.baton.orchestrator.shell;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An operator's shell command (rejoin, fence, hook), run with {@code /bin/sh -c} after its placeholders are filled
 * in. Values are single-quoted for the shell, so a placeholder can never inject a command. A command that runs past
 * its timeout is killed with its whole process tree.
 */
public final class ShellCommand {
    private ShellCommand() {}

    /** How a run ended: the exit status (-1 when it was killed at its timeout), how long it took, its output's tail. */
    public record Result(int exitCode, long millis, String outputTail) {
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** One line: "exit 0 after 12 ms" or "killed after 10000 ms", with the output's tail when it failed. */
        public String describe() {
            String how = exitCode < 0
                    ? "killed at its timeout after " + millis + " ms"
                    : "exit " + exitCode + " after " + millis + " ms";
            return succeeded() || outputTail.isEmpty() ? how : how + ": " + outputTail;
        }
    }

    /** {@code template} with every {@code {key}} of {@code values} replaced by the single-quoted value. */
    public static String render(String template, Map<String, String> values) {
        String rendered = template;
        for (Map.Entry<String, String> e : values.entrySet()) {
            rendered = rendered.replace("{" + e.getKey() + "}", quote(e.getValue() == null ? "" : e.getValue()));
        }
        return rendered;
    }

    public static String quote(String value) {
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    /** Runs {@code command} with {@code env} added to the environment, for at most {@code timeout}. */
    public static Result run(String command, Map<String, String> env, Duration timeout, String threadName)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process p = builder.start();
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
                threadName);
        reader.setDaemon(true);
        reader.start();
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        }
        if (!finished) {
            kill(p);
        }
        reader.join(1000);
        long millis = (System.nanoTime() - start) / 1_000_000;
        String text = output.toString().strip();
        String tail = text.length() > 600 ? "..." + text.substring(text.length() - 600) : text;
        return new Result(finished ? p.exitValue() : -1, millis, tail);
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly); // pg_rewind, ssh: not only the shell
        p.destroyForcibly();
    }
}
