package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each test names the ephemeral range it works with, so that every path runs whatever this kernel's range is. */
class PortsTest {
    private static final Ports.Range LINUX = new Ports.Range(32_768, 60_999);

    @Test
    void serverPortsLieOutsideTheEphemeralRangeAreDistinctAndCanBeBound() throws Exception {
        List<Integer> ports = Ports.free(30, LINUX);
        assertThat(ports).doesNotHaveDuplicates().allSatisfy(port -> assertThat(port)
                .isBetween(Ports.LOWEST, Ports.HIGHEST)
                .matches(p -> !LINUX.contains(p), "outside " + LINUX));
        assertBindable(ports);
    }

    @Test
    void aRangeThatStartsLowLeavesThePortsAboveIt() throws Exception {
        Ports.Range low = new Ports.Range(1_024, 60_999);
        List<Integer> ports = Ports.free(10, low);
        assertThat(ports).doesNotHaveDuplicates().allSatisfy(port -> assertThat(port)
                .isBetween(61_000, Ports.HIGHEST));
        assertBindable(ports);
    }

    @Test
    void aRangeThatTakesEveryPortGetsDistinctPortsFromTheKernel() throws Exception {
        List<Integer> ports = Ports.free(10, new Ports.Range(1_024, Ports.HIGHEST));
        assertThat(ports).hasSize(10).doesNotHaveDuplicates();
        assertBindable(ports);
    }

    @Test
    void aPortIsNotHandedOutTwice() {
        // 1,000 draws from about 17,000 ports: without the record of handed-out ports, a repeat is all but certain
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            assertThat(seen.add(Ports.free(1, LINUX).get(0))).isTrue();
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
        assertThat(Ports.Range.parse("32768\t60999\n")).isEqualTo(LINUX);
        assertThat(Ports.Range.parse("")).isNull();
        assertThat(Ports.Range.parse("3")).isNull();
        assertThat(Ports.Range.parse("60999 32768")).isNull();
        assertThat(Ports.Range.parse("a b")).isNull();
        assertThat(Ports.Range.parse("1024 70000")).isNull();
    }

    @Test
    void portsOutsideTheRangeAreBelowAndAboveIt() {
        assertThat(LINUX.portsOutside()).isEqualTo((32_768 - 20_000) + (65_535 - 60_999));
        assertThat(LINUX.outside(0)).isEqualTo(20_000);
        assertThat(LINUX.outside(32_768 - 20_000 - 1)).isEqualTo(32_767);
        assertThat(LINUX.outside(32_768 - 20_000)).isEqualTo(61_000);
        assertThat(LINUX.outside(LINUX.portsOutside() - 1)).isEqualTo(65_535);
        // a range that starts low leaves the ports above it
        Ports.Range low = new Ports.Range(1_024, 60_999);
        assertThat(low.portsOutside()).isEqualTo(4_536);
        assertThat(low.outside(0)).isEqualTo(61_000);
        // one that takes everything leaves none
        assertThat(new Ports.Range(1_024, 65_535).portsOutside()).isZero();
    }

    private static void assertBindable(List<Integer> ports) throws Exception {
        for (int port : ports) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }
}
