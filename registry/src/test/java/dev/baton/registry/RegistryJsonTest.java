package dev.baton.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RegistryJsonTest {
    @Test
    void primaryRecordSurvivesARoundTrip() {
        PrimaryRecord record = new PrimaryRecord(
                "orders", "pg2", "127.0.0.1", 5433, "postgresql", 7, Instant.parse("2026-01-02T03:04:05Z"));
        assertThat(RegistryJson.read(RegistryJson.write(record), PrimaryRecord.class))
                .isEqualTo(record);
    }

    @Test
    void unknownFieldsAreIgnoredSoNewerWritersDoNotBreakOlderReaders() {
        String json = "{\"cluster\":\"c\",\"nodeId\":\"n\",\"host\":\"h\",\"port\":1,\"dialect\":\"postgresql\","
                + "\"epoch\":3,\"promotedAt\":\"2026-01-01T00:00:00Z\",\"future\":true}";
        assertThat(RegistryJson.read(json.getBytes(StandardCharsets.UTF_8), PrimaryRecord.class)
                        .epoch())
                .isEqualTo(3);
    }

    @Test
    void garbageIsRefusedWithTheTypeNamed() {
        assertThatThrownBy(() -> RegistryJson.read("nope".getBytes(StandardCharsets.UTF_8), PrimaryRecord.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a valid PrimaryRecord");
    }

    @Test
    void successorIncrementsTheEpoch() {
        PrimaryRecord first = new PrimaryRecord("c", "a", "h", 1, "postgresql", 1, Instant.EPOCH);
        PrimaryRecord next = first.successor("b", "h", 2, Instant.EPOCH);
        assertThat(next.epoch()).isEqualTo(2);
        assertThat(next.nodeId()).isEqualTo("b");
    }

    @Test
    void pathsRefuseNamesThatWouldEscapeTheirSegment() {
        assertThat(RegistryPaths.primary("orders")).isEqualTo("/clusters/orders/primary");
        assertThatThrownBy(() -> RegistryPaths.primary("../x")).hasMessageContaining("'../x' is not a valid name");
        assertThatThrownBy(() -> RegistryPaths.node("c", "a/b")).hasMessageContaining("'a/b'");
    }
}
