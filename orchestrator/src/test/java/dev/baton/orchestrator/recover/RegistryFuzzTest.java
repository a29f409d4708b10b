package dev.baton.orchestrator.recover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.orchestrator.ClusterEvent;
import dev.baton.orchestrator.ClusterSupervisor;
import dev.baton.orchestrator.coordination.InvalidRecordException;
import dev.baton.registry.NodeRole;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Garbage written into every znode Baton reads, by any ZooKeeper client: the orchestrator keeps leading, never fences
 * the real primary because of it, history and node states still answer, and a killed primary is still failed over.
 * A primary record it cannot trust is an alert: nothing is fenced or promoted until an operator deletes it.
 */
class RegistryFuzzTest {
    private EngineFixture fixture;
    private FakeDialect dialect;
    private ClusterSupervisor supervisor;
    private final List<ClusterEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        fixture = new EngineFixture();
        dialect = fixture.dialect;
        fixture.healthyCluster();
        supervisor = fixture.supervise(events);
        fixture.awaitNodeStates();
    }

    @AfterEach
    void stop() throws Exception {
        supervisor.close();
        fixture.close();
    }

    private static byte[] payload(String kind) {
        return switch (kind) {
            case "random" -> {
                byte[] b = new byte[512];
                new Random(42).nextBytes(b);
                yield b;
            }
            case "truncated" -> "{\"id\":\"x\",\"kind\":\"switchover\",\"state\":\"pen"
                    .getBytes(StandardCharsets.UTF_8);
            case "empty-object" -> "{}".getBytes(StandardCharsets.UTF_8);
            case "huge" -> ("\"" + "x".repeat(900_000) + "\"").getBytes(StandardCharsets.UTF_8);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private void write(String path, byte[] data) throws Exception {
        fixture.client.create().orSetData().creatingParentContainersIfNeeded().forPath(path, data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "truncated", "empty-object", "huge"})
    void garbageInOperationRequestsHistoryAndNodeStatesBlocksNothing(String kind) throws Exception {
        byte[] garbage = payload(kind);
        write(RegistryPaths.operation("orders"), garbage);
        write(RegistryPaths.requests("orders") + "/req-0000000001", garbage);
        write(RegistryPaths.history("orders") + "/op-9999999999", garbage);
        write(RegistryPaths.node("orders", "zzz"), garbage);
        write(RegistryPaths.node("orders", "pg2"), garbage); // overwritten by the leader's next round

        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(supervisor::isLeader);
        assertThat(dialect.actions).noneMatch(a -> a.startsWith("fence") || a.startsWith("promote"));
        assertThat(fixture.registry.readHistory()).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> fixture.registry.readNodeStates().stream()
                .anyMatch(s -> s.nodeId().equals("pg2")));
        assertThat(fixture.client.checkExists().forPath(RegistryPaths.requests("orders") + "/req-0000000001"))
                .as("a request that is not Baton's is deleted")
                .isNull();

        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.REPLICA, 100, false, true, "h:1"));
        dialect.nodes.put("pg3", new FakeDialect.Node(true, NodeRole.REPLICA, 90, false, true, "h:1"));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(
                        fixture.registry.readPrimary().orElseThrow().value().nodeId())
                .isEqualTo("pg2"));
        assertThat(dialect.actions).containsOnlyOnce("promote pg2").noneMatch(a -> a.equals("fence pg2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "truncated", "empty-object", "huge", "ghost", "other-address", "epoch-0-after-2"})
    void aPrimaryRecordItCannotTrustIsAnAlertNeverAFenceOrAFailover(String kind) throws Exception {
        String path = RegistryPaths.primary("orders");
        if (kind.equals("epoch-0-after-2")) {
            // epochs seen: 2 in the history; the record claims 1
            fixture.registry.appendHistory(new dev.baton.registry.HistoryEntry(
                    "h",
                    "failover",
                    "orders",
                    "pg3",
                    "pg1",
                    2,
                    "succeeded",
                    "r",
                    0,
                    "bytes",
                    Instant.EPOCH,
                    Instant.EPOCH,
                    List.of()));
            supervisor.close();
            supervisor = new ClusterSupervisor(
                    fixture.context.cluster(), dialect, fixture.client, "o2", events::add, Clock.systemUTC());
            supervisor.start();
        }
        byte[] data =
                switch (kind) {
                    case "ghost" -> RegistryJson.write(
                            new PrimaryRecord("orders", "ghost", "h", 1, "postgresql", 2, Instant.EPOCH));
                    case "other-address" -> RegistryJson.write(
                            new PrimaryRecord("orders", "pg2", "10.9.9.9", 5432, "postgresql", 2, Instant.EPOCH));
                    case "epoch-0-after-2" -> RegistryJson.write(
                            new PrimaryRecord("orders", "pg1", "h", 1, "postgresql", 1, Instant.EPOCH));
                    default -> payload(kind);
                };
        fixture.client.setData().forPath(path, data);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> events.stream().anyMatch(e -> e.kind() == ClusterEvent.Kind.RECORD_REJECTED));
        // Even with the real primary gone, nothing is promoted on the word of a record Baton cannot trust.
        dialect.nodes.put("pg1", new FakeDialect.Node(false, NodeRole.UNKNOWN, 100, false, false));
        dialect.nodes.put("pg2", new FakeDialect.Node(true, NodeRole.PRIMARY, 100, false, false));
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(supervisor::isLeader);
        assertThat(dialect.actions).isEmpty();
        assertThat(events.stream().filter(e -> e.kind() == ClusterEvent.Kind.RECORD_REJECTED))
                .as("said once, not every round")
                .hasSize(1)
                .allSatisfy(e -> assertThat(e.message()).hasSizeLessThan(600).contains("delete"));
        if (!kind.equals("epoch-0-after-2") && !kind.equals("ghost") && !kind.equals("other-address")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> fixture.registry.readPrimary())
                    .isInstanceOf(InvalidRecordException.class);
        }
        // The operator deletes the record: the only writable primary is published again.
        fixture.client.delete().forPath(path);
        await().atMost(Duration.ofSeconds(10)).until(() -> fixture.registry
                .readPrimary()
                .filter(r -> r.value().nodeId().equals("pg2"))
                .isPresent());
    }
}
