package dev.baton.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A {@code baton agent} as a process of its own, with its own JVM and ZooKeeper session, started from this JVM's
 * classpath (a test's, or the distribution jar): killed, frozen and resumed like the servers it watches. Its output
 * goes to a log file; closing it kills it.
 */
public final class AgentProcess implements AutoCloseable {
    /** The agent's command-line entry point (the distribution's {@code baton agent} runs the same command). */
    public static final String MAIN = "dev.baton.agent.AgentCommand";

    private final ServerProcess process;
    private final Path logFile;

    private AgentProcess(ServerProcess process, Path logFile) {
        this.process = process;
        this.logFile = logFile;
    }

    /**
     * Starts an agent with {@code config}, its log at {@code logFile}, and waits until it says it runs (at most 30
     * s).
     */
    public static AgentProcess start(String name, Path config, Path logFile) {
        ServerProcess p = new ServerProcess("agent " + name, logFile);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        p.launch(List.of(
                java,
                "-Xmx128m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                MAIN,
                "--config",
                config.toString()));
        AgentProcess agent = new AgentProcess(p, logFile);
        try {
            p.awaitReady("start", Duration.ofSeconds(30), () -> agent.log().contains("baton agent: node"));
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    /** What the agent has written so far. */
    public String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process.isRunning();
    }

    /** SIGKILL: the agent dies without a word; its ZooKeeper session expires on its own. */
    public void kill() {
        process.kill();
    }

    public void pause() {
        process.signalTree("STOP");
    }

    public void resume() {
        process.signalTree("CONT");
    }

    @Override
    public void close() {
        if (process.isRunning()) {
            try {
                process.signalTree("CONT"); // a frozen JVM cannot die of SIGTERM
            } catch (RuntimeException e) {
                // exited meanwhile
            }
            process.kill();
        }
    }
}
