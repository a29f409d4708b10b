package dev.baton.orchestrator.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The State column of {@code baton status}. */
class ClusterStatusStateTest {
    private static NodeState replica(String error) {
        return new NodeState(
                "db2",
                "127.0.0.1",
                3307,
                true,
                NodeRole.REPLICA,
                0,
                "0-1-5",
                "0-1-5",
                0,
                0,
                "127.0.0.1:3306",
                true,
                false,
                false,
                error,
                Instant.now(),
                null);
    }

    @Test
    void aReplicaThatCannotBePromotedSaysWhyInItsState() {
        assertThat(ClusterStatus.state(replica(null))).isEqualTo("streaming");
        assertThat(ClusterStatus.state(replica("gtid_strict_mode OFF: Baton requires them ON to promote this node")))
                .startsWith("streaming: gtid_strict_mode OFF");
    }
}
