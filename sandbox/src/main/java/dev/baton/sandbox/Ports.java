package dev.baton.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Free TCP ports for servers that bind them some time after they are chosen (a database after {@code initdb}, a
 * ZooKeeper server after its peers started).
 *
 * <p>They are taken outside the kernel's ephemeral range (below it from {@value #LOWEST}, or above it), never from
 * it: a port of that range, free when chosen, can become the local end of any outgoing connection before the server
 * binds it (a ZooKeeper server connecting to its peers, a thousand clients connecting to it), and the server then
 * fails with "Address already in use". Outside the range only another server choosing the same port can take it,
 * and this JVM does not choose a port twice until half the ports have been handed out. A kernel whose range leaves
 * fewer than 1,000 such ports gets ports the kernel picks from its range, with the race above.
 */
final class Ports {
    private static final Logger log = LoggerFactory.getLogger(Ports.class);

    /** The lowest port handed out: above the well-known and most registered service ports. */
    static final int LOWEST = 20_000;

    static final int HIGHEST = 65_535;
    /** Linux's default ephemeral range, for a system without the file. */
    private static final Range LINUX_DEFAULT = new Range(32_768, 60_999);

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /**
     * Ports this JVM handed out: shared by every sandbox of the JVM, since a port chosen for one server must not be
     * chosen for another before the first binds it, nor taken away from a stopped server that will start again on it.
     */
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private Ports() {}

    /** The kernel's ephemeral port range, inclusive. */
    record Range(int low, int high) {
        /** How many ports lie outside the range, from {@link #LOWEST} up. */
        int portsOutside() {
            return Math.max(0, low - LOWEST) + Math.max(0, HIGHEST - Math.max(high, LOWEST - 1));
        }

        /** The {@code i}-th port outside the range ({@code 0 <= i < portsOutside()}). */
        int outside(int i) {
            int below = Math.max(0, low - LOWEST);
            return i < below ? LOWEST + i : Math.max(high, LOWEST - 1) + 1 + (i - below);
        }

        boolean contains(int port) {
            return port >= low && port <= high;
        }

        /** The range in {@code ip_local_port_range}'s format ("32768	60999"), or null if it is not that. */
        static Range parse(String text) {
            String[] parts = text.trim().split("\\s+");
            if (parts.length != 2) {
                return null;
            }
            try {
                int low = Integer.parseInt(parts[0]);
                int high = Integer.parseInt(parts[1]);
                return low >= 1 && low <= high && high <= HIGHEST ? new Range(low, high) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** A currently free port, outside the ephemeral range. */
    static int free() {
        return free(1).get(0);
    }

    /** {@code n} distinct free ports, outside the ephemeral range. */
    static List<Integer> free(int n) {
        return free(n, ephemeralRange());
    }

    /** {@code n} distinct free ports outside {@code ephemeral}, or from it when it leaves too few outside. */
    static List<Integer> free(int n, Range ephemeral) {
        int room = ephemeral.portsOutside();
        if (room < 1_000) {
            return fromEphemeralRange(n); // a kernel that lends (almost) every port: nothing better to do
        }
        List<Integer> ports = new ArrayList<>();
        synchronized (HANDED_OUT) {
            if (HANDED_OUT.size() > room / 2) {
                HANDED_OUT.clear(); // a very long-lived JVM: the servers of the first ports are long gone
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int tries = 0; ports.size() < n; tries++) {
                if (tries == 10_000) {
                    throw new SandboxException("cannot find " + n + " free ports from " + LOWEST
                            + " outside the ephemeral range " + ephemeral.low() + "-" + ephemeral.high());
                }
                int port = ephemeral.outside(random.nextInt(room));
                if (!HANDED_OUT.contains(port) && bindable(port)) {
                    HANDED_OUT.add(port);
                    ports.add(port);
                }
            }
        }
        return ports;
    }

    /** {@code n} distinct ports the kernel picks from its ephemeral range, held open together while choosing. */
    private static List<Integer> fromEphemeralRange(int n) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1);
                held.add(s);
                ports.add(s.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new SandboxException("cannot find free ports: " + e.getMessage(), e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }
    }

    /** Whether a server could listen on {@code port} now, on every address (stricter than a loopback server). */
    static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the servers do: a closed connection's TIME_WAIT does not stop them
            s.bind(new InetSocketAddress(port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The kernel's ephemeral range; Linux's default where the file does not exist, or cannot be read (logged). */
    static Range ephemeralRange() {
        // read as a stream: a /proc file says its size is 0, and Files.readString trusts the size
        try (InputStream in = Files.newInputStream(EPHEMERAL_RANGE)) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            Range range = Range.parse(text);
            if (range == null) {
                log.warn("{} holds '{}', not a port range: assuming {}", EPHEMERAL_RANGE, text.trim(), LINUX_DEFAULT);
                return LINUX_DEFAULT;
            }
            return range;
        } catch (NoSuchFileException e) {
            return LINUX_DEFAULT; // not Linux
        } catch (IOException e) {
            log.warn("cannot read {}: {}; assuming {}", EPHEMERAL_RANGE, e.getMessage(), LINUX_DEFAULT);
            return LINUX_DEFAULT;
        }
    }
}
