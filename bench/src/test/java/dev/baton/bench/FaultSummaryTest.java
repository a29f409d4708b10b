package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FaultSummaryTest {
    private static final EndState CLEAN = new EndState(1, 1, 1);

    @Test
    void crashRunsWithinTargetsPass() {
        FaultSummary s = new FaultSummary(Fault.CRASH, 90_000, runs(CLEAN, 500, 600, 700, 800, 1500));

        assertThat(s.median()).isEqualTo(700);
        assertThat(s.p90()).isEqualTo(1500);
        assertThat(s.max()).isEqualTo(1500);
        assertThat(s.min()).isEqualTo(500);
        assertThat(s.targets())
                .extracting(FaultSummary.Target::what, FaultSummary.Target::measured, FaultSummary.Target::verdict)
                .containsExactly(
                        tuple("median", "700", "PASS"),
                        tuple("max", "1500", "PASS"),
                        tuple("runs with more than one promoted node", "0", "PASS"),
                        tuple("runs with no writable primary at the end", "0", "PASS"));
    }

    @Test
    void aSlowCrashRunMissesTheMaxTargetButNotTheMedian() {
        FaultSummary s = new FaultSummary(Fault.CRASH, 90_000, runs(CLEAN, 500, 600, 2000));

        assertThat(s.targets())
                .extracting(FaultSummary.Target::what, FaultSummary.Target::rule, FaultSummary.Target::verdict)
                .startsWith(tuple("median", "< 1000 ms", "PASS"), tuple("max", "< 2000 ms", "MISS"));
    }

    @Test
    void aRunWithoutFirstWriteIsAMissShownAsLongerThanTheDeadline() {
        FaultSummary s = new FaultSummary(Fault.HANG, 90_000, runs(CLEAN, 3000, -1));

        assertThat(s.misses()).isEqualTo(1);
        assertThat(s.millis(s.max())).isEqualTo(">90000");
        assertThat(s.millis(s.median())).isEqualTo(">90000");
        assertThat(FaultSummary.millis(-1, 90_000)).isEqualTo(">90000");
        assertThat(s.targets())
                .extracting(FaultSummary.Target::what, FaultSummary.Target::rule, FaultSummary.Target::verdict)
                .startsWith(tuple("median", "< 5000 ms", "MISS"), tuple("max", "< 5000 ms", "MISS"));
    }

    @Test
    void countsRunsWithTwoPromotedNodesOrNoWritablePrimary() {
        List<FaultSummary.Run> runs = new ArrayList<>(runs(CLEAN, 500, 600));
        runs.add(new FaultSummary.Run(700, new EndState(2, 2, 1), -1));
        runs.add(new FaultSummary.Run(800, new EndState(0, 0, 1), -1));
        runs.add(new FaultSummary.Run(900, new EndState(2, 0, 1), -1));
        FaultSummary s = new FaultSummary(Fault.CRASH, 90_000, runs);

        assertThat(s.runsWithMoreThanOnePromoted()).isEqualTo(2);
        assertThat(s.runsWithoutWritablePrimary()).isEqualTo(2);
        assertThat(s.targets())
                .extracting(FaultSummary.Target::measured, FaultSummary.Target::verdict)
                .endsWith(tuple("2", "MISS"), tuple("2", "MISS"));
    }

    @Test
    void aHangRunWhoseOldPrimaryWasNotFencedMissesTheFencingTarget() {
        List<FaultSummary.Run> runs =
                List.of(new FaultSummary.Run(3000, CLEAN, 400), new FaultSummary.Run(4000, CLEAN, -1));
        FaultSummary s = new FaultSummary(Fault.HANG, 90_000, runs);

        assertThat(s.targets())
                .last()
                .extracting(FaultSummary.Target::what, FaultSummary.Target::measured, FaultSummary.Target::verdict)
                .containsExactly("runs whose old primary was not fenced within 20 s of SIGCONT", "1", "MISS");
    }

    @Test
    void endStateCountsPromotedFormerReplicasAndWritablePrimaries() {
        Map<String, Optional<NodeRole>> roles = new LinkedHashMap<>();
        roles.put("pg1", Optional.of(new NodeRole(false, false))); // the old primary, woken up and not fenced
        roles.put("pg2", Optional.of(new NodeRole(false, false))); // promoted
        roles.put("pg3", Optional.of(new NodeRole(true, true))); // a replica
        assertThat(EndState.of(roles, "pg1")).isEqualTo(new EndState(1, 2, 0));

        roles.put("pg1", Optional.empty()); // killed
        roles.put("pg3", Optional.of(new NodeRole(false, true))); // promoted too, but read-only
        EndState end = EndState.of(roles, "pg1");
        assertThat(end).isEqualTo(new EndState(2, 1, 1));
        assertThat(end.oneWritablePrimary()).isTrue();
    }

    private static List<FaultSummary.Run> runs(EndState end, long... firstWriteMs) {
        List<FaultSummary.Run> runs = new ArrayList<>();
        for (long ms : firstWriteMs) {
            runs.add(new FaultSummary.Run(ms, end, 100));
        }
        return runs;
    }
}
