package dev.baton.orchestrator.recover;

import static dev.baton.orchestrator.Fixtures.ORDER;
import static dev.baton.orchestrator.Fixtures.down;
import static dev.baton.orchestrator.Fixtures.primary;
import static dev.baton.orchestrator.Fixtures.replica;
import static dev.baton.orchestrator.Fixtures.topology;
import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.Fixtures;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.NodeRole;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SwitchoverPlannerTest {
    private final ClusterConfig cluster = new ConfigLoader(name -> null)
            .parse(
                    """
                    zookeeper: { connect: "127.0.0.1:2181" }
                    clusters:
                      - name: orders
                        dialect: postgresql
                        user: baton
                        maxLagOnFailover: 1000
                        nodes:
                          - { id: pg1, host: h, port: 1 }
                          - { id: pg2, host: h, port: 2 }
                          - { id: pg3, host: h, port: 3 }
                    """,
                    "test")
            .clusters()
            .get(0);

    private SwitchoverPlanner.Plan plan(Topology t, String target) {
        return SwitchoverPlanner.plan(cluster, ORDER, t, "pg1", Set.of(), null, target);
    }

    @Test
    void choosesTheMostAdvancedStreamingReplicaWithoutATarget() {
        SwitchoverPlanner.Plan p =
                plan(topology(primary("pg1", 500), replica("pg2", 400, true), replica("pg3", 450, true)), null);
        assertThat(p.approved()).isTrue();
        assertThat(p.to()).isEqualTo("pg3");
        assertThat(p.lag()).isEqualTo(50);
        assertThat(p.verdicts()).last().asString().startsWith("ok: target pg3");
    }

    @Test
    void refusesAnUnknownTargetNamingTheNodes() {
        SwitchoverPlanner.Plan p = plan(topology(primary("pg1", 5), replica("pg2", 5, true)), "pg9");
        assertThat(p.refusal()).isEqualTo("target pg9 is not a node of cluster orders (nodes: [pg1, pg2, pg3])");
    }

    @Test
    void refusesTheCurrentPrimaryAsTarget() {
        assertThat(plan(topology(primary("pg1", 5), replica("pg2", 5, true)), "pg1")
                        .refusal())
                .isEqualTo("target pg1 is the primary already");
    }

    @Test
    void refusesAnUnreachableOrNotStreamingOrLaggingTarget() {
        assertThat(plan(topology(primary("pg1", 5), down("pg2")), "pg2").refusal())
                .startsWith("target pg2 cannot be promoted: unreachable");
        assertThat(plan(topology(primary("pg1", 5), replica("pg2", 5, false)), "pg2")
                        .refusal())
                .isEqualTo("target pg2 is not streaming from pg1");
        assertThat(plan(topology(primary("pg1", 5000), replica("pg2", 100, true)), "pg2")
                        .refusal())
                .isEqualTo("target pg2 is 4900 behind the primary, more than maxLagOnFailover 1000");
    }

    @Test
    void refusesWhenThePrimaryIsNotAHealthyWritablePrimary() {
        NodeObservation fenced = new NodeObservation(
                Fixtures.node("pg1"),
                Fixtures.NOW,
                true,
                null,
                null,
                NodeRole.PRIMARY,
                1,
                new Fixtures.Pos(1, 5),
                new Fixtures.Pos(1, 5),
                false,
                null,
                0,
                true,
                true);
        assertThat(plan(topology(fenced, replica("pg2", 5, true)), "pg2").refusal())
                .isEqualTo("primary pg1 is not a healthy writable primary (read-only); use failover instead");
        assertThat(plan(topology(down("pg1"), replica("pg2", 5, true)), "pg2").refusal())
                .startsWith("primary pg1 is not a healthy writable primary (unreachable");
    }

    @Test
    void refusesWhileAnotherOperationRunsOrForANodeNeedingRejoin() {
        Topology t = topology(primary("pg1", 5), replica("pg2", 5, true));
        assertThat(SwitchoverPlanner.plan(cluster, ORDER, t, "pg1", Set.of(), "failover x", "pg2")
                        .refusal())
                .isEqualTo("another operation is in progress: failover x");
        assertThat(SwitchoverPlanner.plan(cluster, ORDER, t, "pg1", Set.of("pg2"), null, "pg2")
                        .refusal())
                .startsWith("target pg2 cannot be promoted: old primary or needs rejoin");
    }
}
