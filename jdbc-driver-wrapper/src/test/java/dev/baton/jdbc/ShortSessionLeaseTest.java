package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.registry.ClientRegistration;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.registry.ZooKeeperLease;
import dev.baton.sandbox.EmbeddedZooKeeper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * A ZooKeeper server may grant a shorter session than the wrapper asks for (its {@code maxSessionTimeout}). The
 * wrapper's registration expires with that session, and then the orchestrator stops waiting for it: the lease must
 * run out first, whatever {@code leaseTimeout} says. This test is about that server setting, so it sets it.
 */
class ShortSessionLeaseTest {
    @Test
    void aLeaseLongerThanTheGrantedSessionIsShortenedToRunOutBeforeTheRegistrationExpires() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(500, Map.of("maxSessionTimeout", "3000"));
                CuratorFramework reader = RegistryClient.start(
                        zk.connectString(), "baton", Duration.ofSeconds(10), Duration.ofSeconds(3));
                FailoverDataSource ds = FailoverDataSource.builder()
                        .zookeeper(zk.connectString())
                        .cluster("orders")
                        .user("app")
                        .password("unused")
                        .leaseTimeout(Duration.ofMillis(2900))
                        .build()) {
            String clients = RegistryPaths.clients("orders");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> reader.checkExists().forPath(clients) != null
                            && !reader.getChildren().forPath(clients).isEmpty());
            List<String> ids = reader.getChildren().forPath(clients);
            ClientRegistration registration = RegistryJson.read(
                    reader.getData().forPath(RegistryPaths.client("orders", ids.get(0))), ClientRegistration.class);
            assertThat(registration.leaseTimeoutMs())
                    .as("three quarters of the 3000 ms session granted, below the 2900 ms asked for")
                    .isEqualTo(2250);
            await().atMost(Duration.ofSeconds(5)).until(ds::leaseValid);
        }
    }

    @Test
    void aLeaseThatFitsTheGrantedSessionIsLeftAsConfiguredAndALongerOneLaterDoesNotExtendAnOldContact() {
        long[] now = {0};
        ZooKeeperLease lease = new ZooKeeperLease(Duration.ofMillis(9000), () -> now[0]);
        assertThat(lease.fitSession(10_000, 10_000)).as("the session asked for").isEqualTo(Duration.ofMillis(9000));
        assertThat(lease.fitSession(0, 10_000)).as("no session yet").isEqualTo(Duration.ofMillis(9000));
        assertThat(lease.fitSession(4000, 10_000)).isEqualTo(Duration.ofMillis(3000));
        lease.contact(0);
        now[0] = Duration.ofMillis(2900).toNanos();
        assertThat(lease.valid()).isTrue();
        // A new session of the full 10 s: the contact made on the 4 s session still ends at 3000 ms.
        assertThat(lease.fitSession(10_000, 10_000)).isEqualTo(Duration.ofMillis(9000));
        now[0] = Duration.ofMillis(3100).toNanos();
        assertThat(lease.valid()).isFalse();
    }
}
