package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which published node states qualify a replica for reads, and in which order they are tried. */
class ReadRoutingRulesTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final ReadRouting ROUTING =
            new ReadRouting(true, 1000, Duration.ofSeconds(5), Duration.ofSeconds(10), ReplicaBalance.LEAST_LAG);

    private static NodeState state(String id, NodeRole role, boolean reachable, long lagBytes, double lagSeconds) {
        return new NodeState(
                id,
                "10.0.0.1",
                5432,
                reachable,
                role,
                1,
                null,
                null,
                lagBytes,
                lagSeconds,
                null,
                true,
                false,
                false,
                null,
                NOW.minusSeconds(1),
                List.of());
    }

    @Test
    void onlyReachableReplicasUnderBothLimitsQualifyLeastLagFirst() {
        List<NodeState> states = List.of(
                state("a", NodeRole.REPLICA, true, 900, 0.5),
                state("b", NodeRole.REPLICA, true, 10, 0.1),
                state("c", NodeRole.REPLICA, true, 1001, 0),
                state("d", NodeRole.REPLICA, true, 0, 5.5),
                state("e", NodeRole.REPLICA, false, 0, 0),
                state("f", NodeRole.PRIMARY, true, 0, 0),
                state("g", NodeRole.REPLICA, true, -1, -1),
                state("pg1", NodeRole.REPLICA, true, 0, 0));
        assertThat(ROUTING.eligible(states, "pg1", NOW))
                .extracting(NodeState::nodeId)
                .containsExactly("b", "a");
    }

    @Test
    void aStateNotPublishedForLongerThanTheMaximumAgeIsNotTrusted() {
        NodeState stale = state("a", NodeRole.REPLICA, true, 0, 0);
        assertThat(ROUTING.qualifies(stale, "pg1", NOW.plusSeconds(9))).isTrue();
        assertThat(ROUTING.qualifies(stale, "pg1", NOW.plusSeconds(10))).isFalse();
    }

    @Test
    void refusesLimitsThatMakeNoSense() {
        assertThatThrownBy(() ->
                        new ReadRouting(true, -1, Duration.ZERO, Duration.ofSeconds(1), ReplicaBalance.ROUND_ROBIN))
                .hasMessage("maxReplicaLagBytes: -1 must not be negative");
        assertThatThrownBy(() -> new ReadRouting(true, 0, Duration.ZERO, Duration.ZERO, ReplicaBalance.ROUND_ROBIN))
                .hasMessage("maxReplicaStateAge: PT0S must be positive");
    }
}
