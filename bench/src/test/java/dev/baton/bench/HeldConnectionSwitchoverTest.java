package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.jdbc.BatonDriver;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10's held-connection application: one connection opened through {@code DriverManager} with a
 * {@code jdbc:baton:} URL and kept for every write, 500 autocommit writes per second, through a planned switchover
 * run by the real orchestrator and CLI: no write fails and none is lost.
 */
class HeldConnectionSwitchoverTest {
    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "mariadb"})
    void keptConnectionWritesThroughASwitchoverWithoutAFailedWrite(String dialect) throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare(dialect, step -> {})) {
            PrimaryRecord first = scenario.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            LocalCluster cluster = scenario.cluster();
            String url = "jdbc:baton:zk://" + scenario.zooKeeper().connectString() + "/" + FailoverScenario.CLUSTER
                    + "?database=" + cluster.database();
            try (Connection kept = DriverManager.getConnection(url, cluster.user(), cluster.password());
                    ClusterProbe probe = new ClusterProbe(scenario);
                    Writer writer = new Writer(keeping(kept), dialect, 500).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 200);
                SandboxNode a = scenario.node(first.nodeId());
                SandboxNode b = cluster.nodes().get(1);

                SwitchoverRun.Result there = SwitchoverRun.run(scenario, writer, "--to", b.id());
                assertThat(there.exitCode()).as(there.output()).isZero();
                assertThat(there.failedWrites())
                        .as("failed writes: %s", failures(writer))
                        .isZero();
                System.out.printf(
                        "%s held connection: write pause %d ms, %d writes acknowledged%n",
                        dialect, there.pauseMs(), writer.acknowledgedCount());
                long acknowledged = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(10)).until(() -> writer.acknowledgedCount() >= acknowledged + 100);
                writer.close();

                assertThat(writer.failedCount())
                        .as("failed writes: %s", failures(writer))
                        .isZero();
                List<Writer.Write> writes = writer.writes();
                assertThat(writes.get(writes.size() - 1).port()).isEqualTo(b.port());
                Set<Long> present = probe.ids(b);
                assertThat(writes.stream()
                                .filter(Writer.Write::acknowledged)
                                .map(Writer.Write::id)
                                .filter(id -> !present.contains(id))
                                .toList())
                        .as("acknowledged writes missing on the new primary")
                        .isEmpty();
            } finally {
                BatonDriver.closeAll();
            }
        }
    }

    private static List<String> failures(Writer writer) {
        return writer.writes().stream()
                .filter(w -> !w.acknowledged())
                .map(w -> w.sqlState() + " " + w.error())
                .toList();
    }

    /** A DataSource that hands out the one kept connection; closing what it hands out keeps that connection open. */
    private static DataSource keeping(Connection kept) {
        Connection unclosable = (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (p, m, args) -> {
                    if (m.getName().equals("close")) {
                        return null;
                    }
                    try {
                        return m.invoke(kept, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return (DataSource) Proxy.newProxyInstance(
                DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, (p, m, args) -> {
                    if (m.getName().equals("getConnection")) {
                        return unclosable;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }
}
