package dev.baton.bench;

import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.io.IOException;
import java.util.List;

/**
 * A sandbox cluster of either family, seen the same way by the demo, the benchmarks and the end-to-end tests.
 *
 * @param rejoinCommand the shell command template that turns a former primary into a replica, or null when SQL
 *     does it (MySQL family)
 */
public record LocalCluster(
        String dialect,
        List<? extends SandboxNode> nodes,
        String user,
        String password,
        String database,
        String rejoinCommand,
        AutoCloseable sandbox)
        implements AutoCloseable {

    public static LocalCluster start(String dialect, int replicas) throws IOException {
        return switch (dialect) {
            case "postgresql" -> {
                PostgresSandbox s = PostgresSandbox.start(replicas);
                yield new LocalCluster(dialect, s.nodes(), s.user(), s.password(), "postgres", s.rejoinCommand(), s);
            }
            case "mariadb" -> {
                MariaDbSandbox s = MariaDbSandbox.start(replicas);
                yield new LocalCluster(dialect, s.nodes(), s.user(), s.password(), "baton", null, s);
            }
            default -> throw new IllegalArgumentException(
                    "--dialect: '" + dialect + "' is not one of postgresql, mariadb");
        };
    }

    public SandboxNode node(String id) {
        return nodes.stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id));
    }

    @Override
    public void close() {
        try {
            sandbox.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the " + dialect + " sandbox failed", e);
        }
    }
}
