package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.NodeState;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL at server defaults, agents beside every node with a {@code rejoin} section and no {@code rejoinCommand}
 * in the orchestrator's configuration: the agents rewind former primaries themselves, after a switchover and after a
 * crash whose old primary is started again.
 */
class AgentRejoinTest {
    private static boolean streamsAgain(ClusterProbe probe, String node) throws Exception {
        NodeState s = probe.nodeState(node).orElse(null);
        return s != null && s.reachable() && s.streaming() && !s.needsRejoin();
    }

    @Test
    void formerPrimariesAreRewoundByTheirAgentsAfterASwitchoverAndAfterACrashAndRestart() throws Exception {
        try (FailoverScenario s = FailoverScenario.prepare("postgresql", step -> {})) {
            s.withoutRejoinCommand();
            PrimaryRecord first = s.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            s.startAgents(s.agentRejoinYaml());
            try (ClusterProbe probe = new ClusterProbe(s);
                    Writer writer = new Writer(s.dataSource(), "postgresql", 100).start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= 50);
                String old = first.nodeId();
                String target = s.cluster().nodes().get(1).id();

                SwitchoverRun.Result there = SwitchoverRun.run(s, writer, "--to", target);
                assertThat(there.exitCode()).as(there.output()).isZero();
                long switched = System.nanoTime();
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> streamsAgain(probe, old));
                System.out.printf(
                        "switchover: %s streams from %s again %d ms after the switchover returned%n",
                        old, target, (System.nanoTime() - switched) / 1_000_000);

                SwitchoverRun.Result back = SwitchoverRun.run(s, writer, "--to", old);
                assertThat(back.exitCode()).as(back.output()).isZero();
                await().atMost(Duration.ofSeconds(30)).until(() -> streamsAgain(probe, target));

                // The primary (the old one again) crashes and is started again at once, as a writable primary of an
                // older epoch: fenced by the orchestrator, rewound by its agent.
                SandboxNode crashed = s.node(old);
                long epoch = probe.primaryRecord().orElseThrow().epoch();
                crashed.kill();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> probe.primaryRecord().orElseThrow().epoch() == epoch + 1);
                crashed.start();
                long restarted = System.nanoTime();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> streamsAgain(probe, old));
                System.out.printf(
                        "crash and restart: %s streams again %d ms after it was started%n",
                        old, (System.nanoTime() - restarted) / 1_000_000);
                EndState end = EndState.read(s.cluster(), old);
                assertThat(end.oneWritablePrimary()).isTrue();
                long acknowledged = writer.acknowledgedCount();
                await().atMost(Duration.ofSeconds(20)).until(() -> writer.acknowledgedCount() >= acknowledged + 50);
            }
        }
    }
}
