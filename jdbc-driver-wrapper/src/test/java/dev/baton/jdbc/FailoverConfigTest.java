package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class FailoverConfigTest {
    @Test
    void refusesBadSettingsNamingTheKey() {
        assertThatThrownBy(() -> FailoverDataSource.builder().cluster("orders").build())
                .hasMessageStartingWith("zookeeper: must not be empty");
        assertThatThrownBy(() -> FailoverDataSource.builder()
                        .zookeeper("zk:2181")
                        .cluster("a/b")
                        .build())
                .hasMessageStartingWith("cluster: 'a/b' is not a valid name");
        assertThatThrownBy(() -> FailoverDataSource.builder()
                        .zookeeper("zk:2181")
                        .cluster("orders")
                        .holdTimeout(Duration.ZERO)
                        .build())
                .hasMessageStartingWith("holdTimeout: PT0S must be a positive duration");
        assertThatThrownBy(() -> FailoverDataSource.builder()
                        .zookeeper("zk:2181")
                        .cluster("orders")
                        .leaseTimeout(Duration.ofMillis(50))
                        .build())
                .hasMessage("leaseTimeout: PT0.05S must be at least 200 ms");
    }

    @Test
    void masksThePasswordWhenPrinted() {
        FailoverConfig config = new FailoverConfig(
                "zk:2181",
                null,
                "orders",
                "app",
                "hunter2",
                "shop",
                new Properties(),
                null,
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                true,
                Duration.ofSeconds(4));
        assertThat(config.toString())
                .contains("password=****", "namespace=baton")
                .doesNotContain("hunter2");
        assertThat(config.primaryPath()).isEqualTo("/baton/clusters/orders/primary");
    }
}
