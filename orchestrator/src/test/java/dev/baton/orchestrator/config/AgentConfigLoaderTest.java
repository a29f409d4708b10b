package dev.baton.orchestrator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentConfigLoaderTest {
    private static final String PG = "zookeeper: { connect: \"zk:2181\", digest: \"baton:${SECRET}\" }\n"
            + "cluster: main\nnode: pg1\ndialect: postgresql\nserver: { dataDirectory: /var/lib/pg/main }\n";

    private static AgentConfig parse(String yaml) {
        return new AgentConfigLoader(Map.of("SECRET", "s3cret")::get).parse(yaml, "agent.yml");
    }

    @Test
    void aMinimalPostgresAgentGetsTheDefaults() {
        AgentConfig c = parse(PG);
        assertThat(c.pidFile()).isEqualTo(Path.of("/var/lib/pg/main/postmaster.pid"));
        assertThat(c.fence()).isEqualTo(AgentConfig.Fence.STOP);
        assertThat(c.leaseTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.registeredLease()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.killHungServer()).isFalse();
        assertThat(c.zookeeper().digest()).isEqualTo("baton:s3cret");
        assertThat(c.zookeeper().toString()).doesNotContain("s3cret");
    }

    @Test
    void aFenceOfNoneRegistersNoLease() {
        assertThat(parse(PG + "fence: none\n").registeredLease()).isZero();
    }

    @Test
    void badInputIsRefusedNamingTheKeyTheValueAndTheRule() {
        assertThatThrownBy(() -> parse(PG.replace("postgresql", "mariadb")))
                .hasMessageContaining("server.pidFile")
                .hasMessageContaining("required");
        assertThatThrownBy(() -> parse(PG.replace("/var/lib/pg/main", "data/main")))
                .hasMessage("server.dataDirectory: 'data/main' is not an absolute path");
        assertThatThrownBy(() -> parse(PG + "fence: demote\n")).hasMessage("fence: 'demote' is not one of stop, none");
        assertThatThrownBy(() -> parse(PG + "leaseTimeout: 5s\n"))
                .hasMessageContaining("leaseTimeout: 5000 ms plus the 500 ms")
                .hasMessageContaining("zookeeper.sessionTimeout (4500 ms)");
        assertThatThrownBy(() -> parse(PG + "killHungSever: true\n")).hasMessageContaining("killHungSever");
        assertThatThrownBy(() -> parse(PG.replace("node: pg1", "node: pg/1"))).hasMessageContaining("node: 'pg/1'");
        assertThatThrownBy(() -> parse(PG + "hungAfter: 10ms\n")).hasMessageContaining("hungAfter");
    }

    @Test
    void aLongerSessionMakesRoomForALongerLease() {
        String yaml = PG.replace("digest:", "sessionTimeout: 20s, digest:") + "leaseTimeout: 10s\n";
        assertThat(parse(yaml).leaseTimeout()).isEqualTo(Duration.ofSeconds(10));
    }
}
