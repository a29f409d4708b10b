package dev.baton.orchestrator.select;

import static dev.baton.orchestrator.Fixtures.ORDER;
import static dev.baton.orchestrator.Fixtures.down;
import static dev.baton.orchestrator.Fixtures.replica;
import static dev.baton.orchestrator.Fixtures.topology;
import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.orchestrator.Fixtures.Pos;
import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.PositionOrder;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CandidateSelectorTest {
    private final CandidateSelector selector = new CandidateSelector(ORDER);

    @Test
    void promotesTheMostAdvancedReplica() {
        Selection s = selector.select(
                topology(down("pg1"), replica("pg2", 90, false), replica("pg3", 100, false)),
                Set.of("pg1"),
                new Pos(1, 100),
                1000,
                false,
                null);
        assertThat(s.chosen()).map(NodeObservation::id).contains("pg3");
        assertThat(s.estimatedLoss()).isZero();
    }

    @Test
    void breaksTiesByAppliedPositionThenPriorityThenId() {
        NodeConfig low = new NodeConfig("pg2", "h", 2, 0, false);
        NodeConfig high = new NodeConfig("pg3", "h", 3, 5, false);
        Selection byPriority = selector.select(
                topology(replica(low, 100, 100, false), replica(high, 100, 100, false)),
                Set.of(),
                null,
                0,
                false,
                null);
        assertThat(byPriority.chosen()).map(NodeObservation::id).contains("pg3");

        Selection byApplied = selector.select(
                topology(replica(low, 100, 100, false), replica(high, 100, 80, false)), Set.of(), null, 0, false, null);
        assertThat(byApplied.chosen()).map(NodeObservation::id).contains("pg2");

        Selection byId = selector.select(
                topology(replica("pg3", 100, false), replica("pg2", 100, false)), Set.of(), null, 0, false, null);
        assertThat(byId.chosen()).map(NodeObservation::id).contains("pg2");
    }

    @Test
    void neverPromotesANodeMarkedNoFailover() {
        NodeConfig frozen = new NodeConfig("pg3", "h", 3, 0, true);
        Selection s = selector.select(
                topology(down("pg1"), replica("pg2", 50, false), replica(frozen, 100, 100, false)),
                Set.of("pg1"),
                new Pos(1, 100),
                1000,
                false,
                null);
        assertThat(s.chosen()).map(NodeObservation::id).contains("pg2");
        assertThat(s.rejected()).extracting(Selection.Rejection::reason).contains("noFailover is set");
        assertThat(s.estimatedLoss()).isEqualTo(50);
    }

    @Test
    void refusesWhenTheBestCandidateIsBeyondTheLagLimitAndSaysWhy() {
        Selection s = selector.select(
                topology(down("pg1"), replica("pg2", 100, false)), Set.of("pg1"), new Pos(1, 5000), 1000, false, null);
        assertThat(s.chosen()).isEmpty();
        assertThat(s.explain()).contains("pg2").contains("4900 behind").contains("maxLagOnFailover 1000");
        assertThat(s.estimatedLoss()).isEqualTo(4900);
    }

    @Test
    void forcedFailoverIgnoresTheLagLimit() {
        Selection s = selector.select(
                topology(down("pg1"), replica("pg2", 100, false)), Set.of("pg1"), new Pos(1, 5000), 1000, true, null);
        assertThat(s.chosen()).map(NodeObservation::id).contains("pg2");
    }

    @Test
    void excludedAndUnreachableNodesAreNotCandidates() {
        Selection s = selector.select(
                topology(down("pg1"), down("pg2"), replica("pg3", 100, false)),
                Set.of("pg1", "pg3"),
                null,
                0,
                false,
                null);
        assertThat(s.chosen()).isEmpty();
        assertThat(s.explain()).contains("pg2: unreachable");
    }

    @Test
    void aRequestedTargetIsTheOnlyCandidate() {
        Selection s = selector.select(
                topology(replica("pg2", 100, true), replica("pg3", 90, true)), Set.of(), null, 1000, false, "pg3");
        assertThat(s.chosen()).map(NodeObservation::id).contains("pg3");
    }

    /** Like {@code ORDER}, but an applied offset of 103 or 107 holds 3 errant transactions. */
    private static final PositionOrder ERRANT_ORDER = new PositionOrder() {
        public int compare(Position a, Position b) {
            return ORDER.compare(a, b);
        }

        public long distance(Position ahead, Position behind) {
            return ORDER.distance(ahead, behind);
        }

        @Override
        public long errantCount(Position candidateApplied, Position primaryLast) {
            long offset = ((Pos) candidateApplied).offset();
            return offset == 103 || offset == 107 ? 3 : 0;
        }
    };

    @Test
    void rejectsACandidateWithErrantTransactionsAndPromotesACleanOne() {
        Selection s = new CandidateSelector(ERRANT_ORDER)
                .select(
                        topology(down("db1"), replica("db2", 103, false), replica("db3", 100, false)),
                        Set.of("db1"),
                        new Pos(1, 100),
                        1000,
                        false,
                        null,
                        true);
        assertThat(s.chosen()).map(NodeObservation::id).contains("db3");
        assertThat(s.rejected()).extracting(Selection.Rejection::toString).anySatisfy(r -> assertThat(r)
                .startsWith("db2: has 3 errant transaction(s)"));
    }

    @Test
    void refusesWhenOnlyErrantCandidatesExistAndErrantPromotionIsOff() {
        Selection s = new CandidateSelector(ERRANT_ORDER)
                .select(
                        topology(down("db1"), replica("db2", 103, false), replica("db3", 107, false)),
                        Set.of("db1"),
                        new Pos(1, 100),
                        1000,
                        false,
                        null);
        assertThat(s.chosen()).isEmpty();
        assertThat(s.explain())
                .contains("no eligible candidate")
                .contains("db2: has 3 errant")
                .contains("db3: has 3 errant")
                .contains("allowErrantPromotion is off");
    }

    @Test
    void promotesTheBestErrantCandidateWhenNoCleanOneExistsAndItIsAllowed() {
        Selection s = new CandidateSelector(ERRANT_ORDER)
                .select(
                        topology(down("db1"), replica("db2", 103, false), replica("db3", 107, false)),
                        Set.of("db1"),
                        new Pos(1, 100),
                        1000,
                        false,
                        null,
                        true);
        assertThat(s.chosen()).map(NodeObservation::id).contains("db3");
    }

    @Test
    void withoutALastPrimaryPositionNothingCountsAsErrant() {
        Selection s = new CandidateSelector(ERRANT_ORDER)
                .select(topology(down("db1"), replica("db2", 103, false)), Set.of("db1"), null, 1000, false, null);
        assertThat(s.chosen()).map(NodeObservation::id).contains("db2");
    }
}
