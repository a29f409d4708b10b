package dev.baton.bench;

import dev.baton.sandbox.MariaDbNode;
import dev.baton.sandbox.MariaDbSandbox;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import dev.baton.sandbox.SandboxNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * A sandbox cluster of either family, seen the same way by the demo, the benchmarks and the end-to-end tests.
 *
 * @param rejoinCommand the shell command template that turns a former primary into a replica, or null when SQL
 *     does it (MySQL family)
 * @param profile the server settings the cluster runs with
 */
public record LocalCluster(
        String dialect,
        List<? extends SandboxNode> nodes,
        String user,
        String password,
        String database,
        String rejoinCommand,
        ServerProfile profile,
        AutoCloseable sandbox)
        implements AutoCloseable {

    /** A primary and {@code replicas} replicas; {@code profile} says whether the servers run at their defaults. */
    public static LocalCluster start(String dialect, int replicas, ServerProfile profile) throws IOException {
        boolean tuned = profile == ServerProfile.TUNED;
        return switch (dialect) {
            case "postgresql" -> {
                PostgresSandbox s = PostgresSandbox.builder()
                        .replicas(replicas)
                        .tuned(tuned)
                        .start();
                yield new LocalCluster(
                        dialect, s.nodes(), s.user(), s.password(), "postgres", s.rejoinCommand(), profile, s);
            }
            case "mariadb" -> {
                MariaDbSandbox s =
                        MariaDbSandbox.builder().replicas(replicas).tuned(tuned).start();
                yield new LocalCluster(dialect, s.nodes(), s.user(), s.password(), "baton", null, profile, s);
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

    /**
     * Makes {@code replica} stream from its current source through {@code port} on loopback instead (a proxy in
     * front of the primary), and waits until it does.
     */
    public void replicateThrough(SandboxNode replica, int port) throws InterruptedException {
        if (replica instanceof PgNode pg) {
            String conninfo = pg.sql("SHOW primary_conninfo").replaceAll("port=\\d+", "port=" + port);
            pg.sql("ALTER SYSTEM SET primary_conninfo = '" + conninfo.replace("'", "''")
                    + "';\nSELECT pg_reload_conf();");
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!pg.sql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
                    .equals(Integer.toString(port))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(replica.id() + " does not stream through port " + port);
                }
                Thread.sleep(50);
            }
        } else if (replica instanceof MariaDbNode db) {
            db.sql("STOP SLAVE;\nCHANGE MASTER TO MASTER_PORT=" + port + ";\nSTART SLAVE;");
            db.awaitReplicating(Duration.ofSeconds(30));
        } else {
            throw new IllegalArgumentException("unknown node type " + replica);
        }
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
