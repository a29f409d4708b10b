package dev.baton.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpProxyTest {
    private ServerSocket echo;
    private TcpProxy proxy;
    /** Everything the echo server received, on every connection. */
    private final StringBuffer received = new StringBuffer();

    @BeforeEach
    void startEchoServerBehindProxy() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread t = new Thread(() -> {
                        try (s) {
                            byte[] buf = new byte[1024];
                            int n;
                            while ((n = s.getInputStream().read(buf)) >= 0) {
                                received.append(new String(buf, 0, n));
                                s.getOutputStream().write(buf, 0, n);
                            }
                        } catch (IOException ignored) {
                            // client gone
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        proxy = new TcpProxy("127.0.0.1", echo.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    @Test
    void forwardsBytesBothWays() throws IOException {
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "hello")).isEqualTo("hello");
        }
    }

    @Test
    void blackholeMakesReadsTimeOutOnExistingAndNewConnectionsAndHealRestoresForwarding() throws IOException {
        try (Socket existing = connect()) {
            assertThat(roundTrip(existing, "a")).isEqualTo("a");
            proxy.blackhole();
            assertThatThrownBy(() -> roundTrip(existing, "b")).isInstanceOf(SocketTimeoutException.class);
            try (Socket fresh = connect()) {
                assertThatThrownBy(() -> roundTrip(fresh, "c")).isInstanceOf(SocketTimeoutException.class);
            }
            proxy.heal();
            try (Socket healed = connect()) {
                assertThat(roundTrip(healed, "d")).isEqualTo("d");
            }
        }
    }

    @Test
    void blackholeFromCutsOnlyClientsConnectingFromTheGivenAddresses() throws IOException {
        InetAddress cutOff = InetAddress.getByName("127.0.0.2");
        try (Socket cut = connect(cutOff);
                Socket other = connect(InetAddress.getByName("127.0.0.3"))) {
            assertThat(roundTrip(cut, "a")).isEqualTo("a");
            proxy.blackholeFrom(java.util.Set.of(cutOff));
            assertThatThrownBy(() -> roundTrip(cut, "b")).isInstanceOf(SocketTimeoutException.class);
            assertThat(roundTrip(other, "c")).isEqualTo("c");
            try (Socket fresh = connect()) { // from 127.0.0.1
                assertThat(roundTrip(fresh, "d")).isEqualTo("d");
            }
            proxy.heal();
            try (Socket healed = connect(cutOff)) {
                assertThat(roundTrip(healed, "e")).isEqualTo("e");
            }
        }
    }

    @Test
    void refuseResetsExistingConnectionsAndNewOnesUntilHealed() throws IOException {
        try (Socket existing = connect()) {
            assertThat(roundTrip(existing, "a")).isEqualTo("a");
            proxy.refuse();
            assertThatThrownBy(() -> roundTrip(existing, "b")).isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> {
                    try (Socket fresh = connect()) { // the connect may succeed, then get a reset
                        roundTrip(fresh, "c");
                    }
                })
                .isInstanceOf(IOException.class);
        proxy.heal();
        try (Socket healed = connect()) {
            assertThat(roundTrip(healed, "d")).isEqualTo("d");
        }
    }

    @Test
    void aRequestWhoseReplyIsDroppedReachesTheServerAndOnlyItsConnectionLosesItsReplies() throws Exception {
        try (Socket before = connect();
                Socket cut = connect()) {
            assertThat(roundTrip(cut, "a")).isEqualTo("a");
            proxy.dropRepliesAfter("SET read_only = OFF", java.util.Set.of());
            assertThat(roundTrip(cut, "no match")).isEqualTo("no match");
            // the text arrives in two writes: it is still matched
            assertThat(roundTrip(cut, "SET read_o")).isEqualTo("SET read_o");
            assertThatThrownBy(() -> roundTrip(cut, "nly = OFF")).isInstanceOf(SocketTimeoutException.class);
            long end = System.nanoTime() + 2_000_000_000L;
            while (!received.toString().contains("SET read_only = OFF") && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertThat(received.toString()).as("the request reached the server").contains("SET read_only = OFF");
            assertThat(proxy.replyDropped()).isTrue();
            assertThat(roundTrip(before, "b"))
                    .as("another connection still forwards")
                    .isEqualTo("b");
            try (Socket fresh = connect()) {
                assertThat(roundTrip(fresh, "SET read_only = OFF"))
                        .as("once only")
                        .isEqualTo("SET read_only = OFF");
            }
        }
    }

    private Socket connect() throws IOException {
        return connect(null);
    }

    /** A connection to the proxy from {@code local} (any loopback address when null). */
    private Socket connect(InetAddress local) throws IOException {
        Socket s = new Socket();
        if (local != null) {
            s.bind(new InetSocketAddress(local, 0));
        }
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2000);
        s.setSoTimeout(500);
        return s;
    }

    /** Writes the text and reads as many bytes back; EOF counts as a failure. */
    private static String roundTrip(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes());
        out.flush();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[text.length()];
        int read = 0;
        while (read < buf.length) {
            int n = in.read(buf, read, buf.length - read);
            if (n < 0) {
                throw new IOException("EOF after " + read + " bytes");
            }
            read += n;
        }
        return new String(buf);
    }
}
