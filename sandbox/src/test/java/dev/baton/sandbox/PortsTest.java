package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
    @Test
    void serverPortsLieOutsideTheEphemeralRangeAreDistinctAndCanBeBound() throws Exception {
        Ports.Range ephemeral = Ports.ephemeralRange();
        assumeTrue(ephemeral.portsOutside() >= 1_000, "this kernel lends almost every port: " + ephemeral);
        List<Integer> ports = Ports.free(30);
        assertThat(ports).doesNotHaveDuplicates().allSatisfy(port -> assertThat(port)
                .isBetween(Ports.LOWEST, Ports.HIGHEST)
                .matches(p -> !ephemeral.contains(p), "outside " + ephemeral));
        for (int port : ports) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void aPortIsNotHandedOutTwice() {
        assumeTrue(Ports.ephemeralRange().portsOutside() >= 1_000, "this kernel lends almost every port");
        // 1,000 draws from about 16,000 ports: without the record of handed-out ports, a repeat is all but certain
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            assertThat(seen.add(Ports.free())).isTrue();
        }
    }

    @Test
    void aPortSomeoneListensOnIsNotFree() throws Exception {
        int port = Ports.free();
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(Ports.bindable(port)).isFalse();
        }
        assertThat(Ports.bindable(port)).isTrue();
    }

    @Test
    void theRangeIsReadInTheKernelsFormatAndAnythingElseIsRefused() {
        assertThat(Ports.Range.parse("32768\t60999\n")).isEqualTo(new Ports.Range(32_768, 60_999));
        assertThat(Ports.Range.parse("")).isNull();
        assertThat(Ports.Range.parse("3")).isNull();
        assertThat(Ports.Range.parse("60999 32768")).isNull();
        assertThat(Ports.Range.parse("a b")).isNull();
        assertThat(Ports.Range.parse("1024 70000")).isNull();
    }

    @Test
    void portsOutsideTheRangeAreBelowAndAboveIt() {
        Ports.Range linux = new Ports.Range(32_768, 60_999);
        assertThat(linux.portsOutside()).isEqualTo((32_768 - 20_000) + (65_535 - 60_999));
        assertThat(linux.outside(0)).isEqualTo(20_000);
        assertThat(linux.outside(32_768 - 20_000 - 1)).isEqualTo(32_767);
        assertThat(linux.outside(32_768 - 20_000)).isEqualTo(61_000);
        assertThat(linux.outside(linux.portsOutside() - 1)).isEqualTo(65_535);
        // a range that starts low leaves the ports above it
        Ports.Range low = new Ports.Range(1_024, 60_999);
        assertThat(low.portsOutside()).isEqualTo(4_536);
        assertThat(low.outside(0)).isEqualTo(61_000);
        // one that takes everything leaves none
        assertThat(new Ports.Range(1_024, 65_535).portsOutside()).isZero();
    }
}
