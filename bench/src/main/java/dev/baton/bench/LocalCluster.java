package dev.baton.bench;

import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.io.IOException;
import java.util.List;

/** A sandbox cluster of either family, seen the same way by the demo, the benchmarks and the end-to-end tests. */
public interface LocalCluster extends AutoCloseable {
    String dialect();

    List<? extends SandboxNode> nodes();

    String user();

    String password();

    String database();

    /** The shell command template that turns a former primary into a replica, or null when SQL does it. */
    String rejoinCommand();

    @Override
    void close();

    default SandboxNode node(String id) {
        return nodes().stream()
                .filter(n -> n.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id));
    }

    static LocalCluster start(String dialect, int replicas) throws IOException {
        return switch (dialect) {
            case "postgresql" -> postgres(PostgresSandbox.start(replicas));
            case "mariadb" -> mariadb(MariaDbSandbox.start(replicas));
            default -> throw new IllegalArgumentException(
                    "--dialect: '" + dialect + "' is not one of postgresql, mariadb");
        };
    }

    private static LocalCluster postgres(PostgresSandbox sandbox) {
        return new LocalCluster() {
            public String dialect() {
                return "postgresql";
            }

            public List<? extends SandboxNode> nodes() {
                return sandbox.nodes();
            }

            public String user() {
                return sandbox.user();
            }

            public String password() {
                return sandbox.password();
            }

            public String database() {
                return "postgres";
            }

            public String rejoinCommand() {
                return sandbox.rejoinCommand();
            }

            public void close() {
                sandbox.close();
            }
        };
    }

    private static LocalCluster mariadb(MariaDbSandbox sandbox) {
        return new LocalCluster() {
            public String dialect() {
                return "mariadb";
            }

            public List<? extends SandboxNode> nodes() {
                return sandbox.nodes();
            }

            public String user() {
                return sandbox.user();
            }

            public String password() {
                return sandbox.password();
            }

            public String database() {
                return "baton";
            }

            public String rejoinCommand() {
                return null;
            }

            public void close() {
                sandbox.close();
            }
        };
    }
}
