package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortsTest {
    @Test
    void serverPortsLieBelowTheEphemeralRangeAreDistinctAndCanBeBound() throws Exception {
        List<Integer> ports = Ports.free(30);
        assertThat(ports).doesNotHaveDuplicates().allSatisfy(port -> assertThat(port)
                .isGreaterThanOrEqualTo(Ports.LOWEST)
                .isLessThan(Ports.ephemeralLow()));
        for (int port : ports) {
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void aPortIsNotHandedOutTwiceEvenOnceItsServerStopped() {
        // the server may not have bound it yet, or may bind it again on a restart
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
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
}
