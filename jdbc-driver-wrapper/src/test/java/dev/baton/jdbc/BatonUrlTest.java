package dev.baton.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class BatonUrlTest {
    @Test
    void parsesHostsClusterAndParameters() throws SQLException {
        Properties info = new Properties();
        info.setProperty("user", "app");
        info.setProperty("ssl", "false");
        BatonUrl url = BatonUrl.parse(
                "jdbc:baton:zk://zk1:2181,zk2:2182/orders?database=shop&holdTimeoutMs=500&ssl=true&tcpKeepAlive=true",
                info);
        assertThat(url.zookeeper()).isEqualTo("zk1:2181,zk2:2182");
        assertThat(url.cluster()).isEqualTo("orders");
        assertThat(url.get("database")).isEqualTo("shop");
        assertThat(url.get("user")).isEqualTo("app");
        assertThat(url.millis("holdTimeoutMs", Duration.ZERO)).isEqualTo(Duration.ofMillis(500));
        assertThat(url.driverProperties())
                .containsOnlyKeys("ssl", "tcpKeepAlive")
                .containsEntry("ssl", "true");
    }

    @Test
    void refusesMalformedUrlsNamingTheWrongPart() {
        assertRefused("jdbc:baton:orders", "must start with jdbc:baton:zk://");
        assertRefused("jdbc:baton:zk://zk1:2181", "the cluster is missing");
        assertRefused("jdbc:baton:zk://zk1:99999/orders", "port '99999' of ZooKeeper host 'zk1:99999'");
        assertRefused("jdbc:baton:zk://zk1/orders", "ZooKeeper host 'zk1' is not HOST:PORT");
        assertRefused("jdbc:baton:zk://zk1:2181/or/ders", "cluster 'or/ders' is not a valid name");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?maxPoolSize=ten", "parameter 'maxPoolSize' is not a whole number");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?connectionTimeoutMs=100",
                "parameter 'connectionTimeoutMs' must be between 250 and 2147483647");
        assertRefused("jdbc:baton:zk://zk1:2181/orders?namespace=a/b", "parameter 'namespace' is not a valid name");
        assertRefused("jdbc:baton:zk://zk1:2181/orders?=x", "query parameter 1 has no name");
        assertRefused("jdbc:baton:zk://zk1:2181/orders?lease=maybe", "parameter 'lease' must be true or false");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?resolveCommitOutcome=1",
                "parameter 'resolveCommitOutcome' must be true or false");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?retryNotCommitted=yes",
                "parameter 'retryNotCommitted' must be true or false");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?replicaBalance=random",
                "parameter 'replicaBalance' must be round-robin or least-lag");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?maxReplicaLagBytes=-1",
                "parameter 'maxReplicaLagBytes' must be between 0 and 2147483647");
        assertRefused(
                "jdbc:baton:zk://zk1:2181/orders?leaseTimeoutMs=100",
                "parameter 'leaseTimeoutMs' must be between 200 and 2147483647");
    }

    @Test
    void leaseSettingsAreBatonsOwnAndNotPassedToTheDriver() throws SQLException {
        BatonUrl url = BatonUrl.parse(
                "jdbc:baton:zk://zk1:2181/orders?lease=false&leaseTimeoutMs=2500&ssl=true&resolveCommitOutcome=true",
                null);
        assertThat(url.flag("lease", true)).isFalse();
        assertThat(url.flag("resolveCommitOutcome", false)).isTrue();
        assertThat(url.driverProperties()).doesNotContainKey("retryNotCommitted");
        BatonUrl reads = BatonUrl.parse(
                "jdbc:baton:zk://zk1:2181/orders?readRouting=true&maxReplicaLagBytes=1000&replicaBalance=least-lag",
                null);
        assertThat(reads.flag("readRouting", false)).isTrue();
        assertThat(reads.replicaBalance()).isEqualTo(ReplicaBalance.LEAST_LAG);
        assertThat(reads.driverProperties()).isEmpty();
        assertThat(url.millis("leaseTimeoutMs", java.time.Duration.ZERO)).hasMillis(2500);
        assertThat(url.driverProperties()).containsOnlyKeys("ssl");
    }

    @Test
    void neverEchoesAParameterValueInMessages() {
        assertThatThrownBy(() -> BatonUrl.parse("jdbc:baton:zk://zk1:x/orders?password=hunter2&user=a", null))
                .hasMessageContaining("jdbc:baton:zk://zk1:x/orders?...")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> BatonUrl.parse(
                        "jdbc:baton:zk://zk1:2181/orders?user=app&password=%zzSECRET&sslpassword=k3y", null))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("parameter 'password' is not URL-encoded correctly")
                .hasMessageNotContaining("SECRET")
                .hasMessageNotContaining("k3y");
        assertThatThrownBy(() -> BatonUrl.parse("jdbc:baton:zk://zk1:2181/orders?user=app&pass%zz=SECRET", null))
                .hasMessageContaining("the name of query parameter 2 is not URL-encoded correctly")
                .hasMessageNotContaining("SECRET");
        Properties info = new Properties();
        info.setProperty("maxPoolSize", "SECRET");
        assertThatThrownBy(() -> BatonUrl.parse("jdbc:baton:zk://zk1:2181/orders", info))
                .hasMessageContaining("parameter 'maxPoolSize' is not a whole number")
                .hasMessageNotContaining("SECRET");
    }

    private static void assertRefused(String url, String problem) {
        assertThatThrownBy(() -> BatonUrl.parse(url, new Properties()))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining(problem)
                .hasMessageContaining("malformed Baton URL");
    }
}
