package dev.baton.sandbox;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports for servers that bind them some time after they are chosen (a database after {@code initdb}, a
 * ZooKeeper server after its peers started).
 *
 * <p>They are taken below the kernel's ephemeral range, never from it: a port of that range, free when chosen, can
 * become the local end of any outgoing connection before the server binds it (a ZooKeeper server connecting to its
 * peers, a thousand clients connecting to it), and the server then fails with "Address already in use". Below the
 * range only another server choosing the same port can take it; a port is handed out once per JVM. (A kernel whose
 * ephemeral range leaves less than 1,000 ports above {@value #LOWEST} gets ports from that range, as before.)
 */
final class Ports {
    /** The lowest port handed out: above the well-known and most registered service ports. */
    static final int LOWEST = 20_000;
    /** The kernel's ephemeral range when it cannot be read (Linux's default). */
    private static final int DEFAULT_EPHEMERAL_LOW = 32_768;

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private Ports() {}

    /** A currently free port, outside the ephemeral range. */
    static int free() {
        return free(1).get(0);
    }

    /** {@code n} distinct free ports, outside the ephemeral range. */
    static List<Integer> free(int n) {
        int below = ephemeralLow();
        if (below - LOWEST < 1_000) {
            return fromEphemeralRange(n); // a kernel that lends (almost) every port: nothing better to do
        }
        List<Integer> ports = new ArrayList<>();
        synchronized (HANDED_OUT) {
            if (HANDED_OUT.size() > (below - LOWEST) / 2) {
                HANDED_OUT.clear(); // a very long-lived JVM: the servers of the first ports are long gone
            }
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int tries = 0; ports.size() < n; tries++) {
                if (tries == 10_000) {
                    throw new SandboxException("cannot find " + n + " free ports between " + LOWEST + " and " + below);
                }
                int port = random.nextInt(LOWEST, below);
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

    /** Whether a server could listen on {@code port} now, on every address (as ZooKeeper does). */
    static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true); // as the servers do: a closed connection's TIME_WAIT does not stop them
            s.bind(new InetSocketAddress(port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first port of the kernel's ephemeral range. */
    static int ephemeralLow() {
        try {
            // read as a stream: a /proc file has size 0, and Files.readString trusts the size
            try (var in = Files.newInputStream(EPHEMERAL_RANGE)) {
                String[] range = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
                        .trim()
                        .split("\\s+");
                return Integer.parseInt(range[0]);
            }
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }
}
