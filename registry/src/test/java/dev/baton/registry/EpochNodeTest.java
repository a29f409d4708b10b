package dev.baton.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.common.PathUtils;
import org.junit.jupiter.api.Test;

class EpochNodeTest {
    private static final PrimaryRecord RECORD = new PrimaryRecord(
            "orders",
            "db-2.eu",
            "2001:db8::17",
            5433,
            "mariadb",
            42,
            Instant.parse("2026-12-01T17:00:00.123456Z"),
            "0-1-8812,1-2-44");

    @Test
    void aNameCarriesTheWholeRecord() {
        assertThat(EpochNode.parse(EpochNode.name(RECORD))).isEqualTo(RECORD);
        assertThat(EpochNode.epoch(EpochNode.name(RECORD))).isEqualTo(42);
    }

    @Test
    void aNameIsAValidZooKeeperPathSegment() {
        String path = RegistryPaths.epoch("orders", RECORD);
        PathUtils.validatePath(path);
        assertThat(path).startsWith("/clusters/orders/epochs/0000000000000000042-");
        assertThat(path.substring(path.lastIndexOf('/') + 1))
                .doesNotContain("/")
                .matches("[0-9A-Za-z_-]+");
    }

    @Test
    void namesSortByEpoch() {
        List<String> names = new ArrayList<>();
        for (long epoch : new long[] {10, 9, 100, 1}) {
            names.add(EpochNode.name(new PrimaryRecord("c", "n", "h", 1, "postgresql", epoch, Instant.EPOCH)));
        }
        assertThat(names.stream().sorted().map(EpochNode::epoch).toList()).containsExactly(1L, 9L, 10L, 100L);
    }

    @Test
    void aNameThatIsNotAnEpochNodeIsRefusedWithTheReason() {
        assertThat(EpochNode.epoch("lock-0001")).isEqualTo(-1);
        assertThat(EpochNode.epoch("000000000000000004x-abc")).isEqualTo(-1);
        assertThatThrownBy(() -> EpochNode.parse("42-abc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not start with a 19-digit epoch");
        assertThatThrownBy(() -> EpochNode.parse("0000000000000000042-*not base64*"))
                .hasMessageContaining("is not an epoch and base64url");
        assertThatThrownBy(() -> EpochNode.parse("0000000000000000042-bm9wZQ"))
                .hasMessageContaining("not a valid PrimaryRecord");
    }

    @Test
    void anEpochThatDisagreesWithTheRecordIsRefused() {
        String name = EpochNode.name(RECORD);
        String forged = "0000000000000000043" + name.substring(19);
        assertThatThrownBy(() -> EpochNode.parse(forged)).hasMessageContaining("says epoch 43 but carries epoch 42");
    }
}
