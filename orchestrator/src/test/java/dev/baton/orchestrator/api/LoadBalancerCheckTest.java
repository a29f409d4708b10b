package dev.baton.orchestrator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.orchestrator.admin.ClusterStatus;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The load-balancer checks answer 200 only for the node that should take the traffic. */
class LoadBalancerCheckTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final ClusterConfig CLUSTER = new ConfigLoader(name -> null)
            .parse(
                    """
                    zookeeper: { connect: "127.0.0.1:2181" }
                    clusters:
                      - name: orders
                        dialect: postgresql
                        user: baton
                        nodes:
                          - { id: pg1, host: 127.0.0.1, port: 5501 }
                          - { id: pg2, host: 127.0.0.1, port: 5502 }
                          - { id: pg3, host: 127.0.0.1, port: 5503 }
                    """,
                    "test")
            .clusters()
            .get(0);

    private static NodeState state(String id, NodeRole role, boolean reachable, boolean streaming, long lag) {
        return new NodeState(
                id,
                "127.0.0.1",
                5501,
                reachable,
                role,
                1,
                "0/1",
                "0/1",
                lag,
                lag / 1000.0,
                null,
                streaming,
                false,
                false,
                null,
                NOW,
                null);
    }

    private static ClusterStatus status(Instant observedAt, NodeState... states) {
        Map<String, NodeState> byId = new java.util.HashMap<>();
        for (NodeState s : states) {
            byId.put(s.nodeId(), s);
        }
        return new ClusterStatus(
                CLUSTER,
                Optional.of(new PrimaryRecord("orders", "pg1", "127.0.0.1", 5501, "postgresql", 3, NOW)),
                byId,
                false,
                "orch-a",
                observedAt,
                List.of(),
                List.of(),
                Map.of());
    }

    private final ClusterStatus healthy = status(
            NOW.minusMillis(300),
            state("pg1", NodeRole.PRIMARY, true, false, 0),
            state("pg2", NodeRole.REPLICA, true, true, 2048),
            state("pg3", NodeRole.REPLICA, false, false, -1));

    @Test
    void primaryIsOkOnlyForThePublishedRunningPrimary() {
        assertThat(LoadBalancerCheck.primary(healthy, "pg1", NOW).status()).isEqualTo(200);
        LoadBalancerCheck.Answer replica = LoadBalancerCheck.primary(healthy, "pg2", NOW);
        assertThat(replica.status()).isEqualTo(503);
        assertThat(replica.reason()).isEqualTo("the published primary is pg1, not pg2");
        ClusterStatus deadPrimary = status(
                NOW, state("pg1", NodeRole.UNKNOWN, false, false, -1), state("pg2", NodeRole.REPLICA, true, true, 0));
        assertThat(LoadBalancerCheck.primary(deadPrimary, "pg1", NOW).reason())
                .startsWith("pg1 is published but not running writable: unreachable");
    }

    @Test
    void replicaIsOkOnlyForAStreamingReplicaUnderTheLag() {
        assertThat(LoadBalancerCheck.replica(healthy, "pg2", null, NOW).status())
                .isEqualTo(200);
        assertThat(LoadBalancerCheck.replica(healthy, "pg1", null, NOW).reason())
                .isEqualTo("pg1 is the published primary");
        assertThat(LoadBalancerCheck.replica(healthy, "pg3", null, NOW).status())
                .isEqualTo(503);
        LoadBalancerCheck.Lag bytes = LoadBalancerCheck.Lag.parse("1kB", ClusterConfig.Dialect.POSTGRESQL);
        assertThat(bytes.amount()).isEqualTo(1024);
        assertThat(LoadBalancerCheck.replica(healthy, "pg2", bytes, NOW).reason())
                .isEqualTo("pg2: lag 2048 bytes is over the limit of 1024");
        assertThat(LoadBalancerCheck.replica(
                                healthy, "pg2", LoadBalancerCheck.Lag.parse("2048", CLUSTER.dialect()), NOW)
                        .status())
                .isEqualTo(200);
        assertThat(LoadBalancerCheck.replica(healthy, "pg2", LoadBalancerCheck.Lag.parse("1s", CLUSTER.dialect()), NOW)
                        .reason())
                .isEqualTo("pg2: replay delay 2.048 s is over the limit of 1.0 s");
        assertThat(LoadBalancerCheck.replica(healthy, "pg2", LoadBalancerCheck.Lag.parse("3s", CLUSTER.dialect()), NOW)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void nothingIsOkWhenTheObservationIsOld() {
        ClusterStatus old = status(
                NOW.minusSeconds(60),
                state("pg1", NodeRole.PRIMARY, true, false, 0),
                state("pg2", NodeRole.REPLICA, true, true, 0));
        assertThat(LoadBalancerCheck.primary(old, "pg1", NOW).reason())
                .isEqualTo("the node states are 60 s old: no orchestrator is watching cluster orders");
        assertThat(LoadBalancerCheck.replica(old, "pg2", null, NOW).status()).isEqualTo(503);
    }

    @Test
    void refusesLagLimitsItCannotRead() {
        assertThatThrownBy(() -> LoadBalancerCheck.Lag.parse("-5", ClusterConfig.Dialect.POSTGRESQL))
                .hasMessageStartingWith("lag: '-5' is not a lag limit");
        assertThatThrownBy(() -> LoadBalancerCheck.Lag.parse("16MB", ClusterConfig.Dialect.MARIADB))
                .hasMessage("lag: '16MB': the mariadb dialect measures lag in transactions, not bytes");
    }
}
