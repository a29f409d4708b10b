package dev.baton.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived helper command (initdb, psql, pg_basebackup, mariadb...) with a timeout. */
final class Exec {
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private Exec() {}

    /** Runs {@code command}, feeding {@code stdin} (may be null); stdout and stderr are merged. */
    static Result run(List<String> command, String stdin, Duration timeout, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (env != null) {
            pb.environment().putAll(env);
        }
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new SandboxException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out), "exec-" + p.pid());
        reader.setDaemon(true);
        reader.start();
        try {
            if (stdin != null) {
                try (OutputStream in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // the command exited before reading all of it; its output says why
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                reader.join(1000);
                throw new SandboxException(String.format(
                        "%s did not finish within %d ms; output: %s",
                        describe(command), timeout.toMillis(), text(out)));
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while running " + describe(command), e);
        }
        return new Result(p.exitValue(), text(out));
    }

    /** Like {@link #run} but fails on a non-zero exit; {@code secrets} are masked in the message. */
    static String check(List<String> command, String stdin, Duration timeout, Collection<String> secrets) {
        Result r = run(command, stdin, timeout, null);
        if (!r.ok()) {
            throw new SandboxException(mask(
                    String.format(
                            "%s exited with %d: %s",
                            describe(command), r.exitCode(), r.output().strip()),
                    secrets));
        }
        return r.output();
    }

    static String mask(String text, Collection<String> secrets) {
        String masked = text;
        for (String s : secrets) {
            if (s != null && !s.isEmpty()) {
                masked = masked.replace(s, "****");
            }
        }
        return masked;
    }

    private static String describe(List<String> command) {
        return String.join(" ", command);
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // process gone
        }
    }
}
