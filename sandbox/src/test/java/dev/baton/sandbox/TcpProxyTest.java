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

    @BeforeEach
    void startEchoServerBehindProxy() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread t = new Thread(() -> {
                        try (s) {
                            s.getInputStream().transferTo(s.getOutputStream());
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
