package dev.baton.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real TCP proxy on loopback to cut links in tests. Blocking I/O, two daemon threads per connection.
 *
 * <ul>
 *   <li>{@link #blackhole()}: like a partition that drops packets: connections (existing and new) stay open but no
 *       byte is forwarded either way; senders eventually block when buffers fill.
 *   <li>{@link #blackholeFrom(Set)}: the same, only for clients connecting from the given loopback addresses (a
 *       client binds one of 127.0.0.0/8 as its local address, e.g. pgjdbc's and Connector/J's {@code
 *       localSocketAddress}): one proxy, a partition that cuts some clients and not others.
 *   <li>{@link #refuse()}: existing connections are reset, new ones are reset as soon as they are accepted;
 *       {@link #refuseFrom(Set)} does it for some clients only, like a firewall that rejects with TCP resets.
 *   <li>{@link #dropRepliesAfter(String, Set)}: once, the connection whose request contains a given text gets no
 *       reply any more: the request reaches the server and runs, its answer is lost (a link that fails mid-call).
 *   <li>{@link #heal()}: forwards again; bytes held during a blackhole are delivered (as TCP retransmission would),
 *       and connections accepted during it are connected upstream now.
 * </ul>
 */
public final class TcpProxy implements AutoCloseable {
    private enum Mode {
        FORWARD,
        BLACKHOLE,
        REFUSE
    }

    private static final int CONNECT_TIMEOUT_MS = 5000;
    private static final Logger log = LoggerFactory.getLogger(TcpProxy.class);

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private Mode mode = Mode.FORWARD; // guarded by lock
    /** With BLACKHOLE: the client addresses cut off; empty means every client. Guarded by lock. */
    private Set<InetAddress> cutSources = Set.of();
    /** Armed by {@link #dropRepliesAfter}: the request text, and the clients it applies to. Guarded by lock. */
    private byte[] replyCutText;

    private Set<InetAddress> replyCutSources = Set.of();
    private final AtomicBoolean replyDropped = new AtomicBoolean();

    /** Listens on a free 127.0.0.1 port at once and forwards to {@code targetHost:targetPort}. */
    public TcpProxy(String targetHost, int targetPort) throws IOException {
        if (targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("targetPort: " + targetPort + " is not a TCP port (1-65535)");
        }
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        daemon(this::acceptLoop, "tcp-proxy-" + server.getLocalPort() + "-accept")
                .start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Stop forwarding in both directions on every connection, keeping them open. */
    public void blackhole() {
        blackholeFrom(Set.of());
    }

    /**
     * Like {@link #blackhole()} for the connections of clients whose address is in {@code sources} (every client
     * when it is empty); connections of other clients keep forwarding.
     */
    public void blackholeFrom(Set<InetAddress> sources) {
        synchronized (lock) {
            cutSources = Set.copyOf(sources);
        }
        setMode(Mode.BLACKHOLE);
    }

    /** Reset every connection; reset new ones at once. */
    public void refuse() {
        refuseFrom(Set.of());
    }

    /**
     * Like {@link #refuse()} for the connections of clients whose address is in {@code sources} (every client when it
     * is empty): a firewall that rejects with TCP resets, for some clients and not others. Other clients' connections
     * keep forwarding.
     */
    public void refuseFrom(Set<InetAddress> sources) {
        synchronized (lock) {
            cutSources = Set.copyOf(sources);
        }
        setMode(Mode.REFUSE);
        links.stream().filter(l -> cutNow(l.client.getInetAddress())).forEach(Link::reset);
    }

    /**
     * Once: on the first connection from one of {@code sources} (any client when empty) whose bytes to the server
     * contain {@code text}, those bytes are forwarded, and nothing the server sends back on that connection is
     * delivered any more (it is read and discarded). The server runs the request; the client never learns the outcome
     * and waits until its own timeout. Other connections, new ones too, forward normally. {@link #heal()} disarms it
     * when it has not matched yet; a connection that matched gets no reply again (its client must reconnect).
     */
    public void dropRepliesAfter(String text, Set<InetAddress> sources) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("text: the request text to match must not be empty");
        }
        synchronized (lock) {
            replyCutText = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            replyCutSources = Set.copyOf(sources);
        }
        replyDropped.set(false);
    }

    /** True once {@link #dropRepliesAfter} matched a request and dropped what followed it on its connection. */
    public boolean replyDropped() {
        return replyDropped.get();
    }

    /** Forward normally again. */
    public void heal() {
        synchronized (lock) {
            replyCutText = null;
        }
        setMode(Mode.FORWARD);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        synchronized (lock) {
            lock.notifyAll();
        }
        links.forEach(Link::reset);
    }

    private void setMode(Mode next) {
        synchronized (lock) {
            mode = next;
            lock.notifyAll();
        }
        log.debug("proxy {} -> {}:{} now {}", port(), targetHost, targetPort, next);
    }

    /**
     * Blocks while {@code client}'s connections are blackholed; returns the mode that ended the wait (or REFUSE once
     * closed).
     */
    private Mode awaitNotBlackholed(InetAddress client) throws InterruptedException {
        synchronized (lock) {
            while (mode == Mode.BLACKHOLE && cut(client) && !closed.get()) {
                lock.wait();
            }
            if (closed.get()) {
                return Mode.REFUSE;
            }
            return mode == Mode.REFUSE && cut(client) ? Mode.REFUSE : Mode.FORWARD;
        }
    }

    /** Called with the lock held. */
    private boolean cut(InetAddress client) {
        return cutSources.isEmpty() || cutSources.contains(client);
    }

    private boolean cutNow(InetAddress client) {
        synchronized (lock) {
            return cut(client);
        }
    }

    private Mode mode() {
        synchronized (lock) {
            return mode;
        }
    }

    private void acceptLoop() {
        while (!closed.get()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed.get()) {
                    log.warn("proxy {} stopped accepting: {}", port(), e.toString());
                }
                return;
            }
            if (mode() == Mode.REFUSE && cutNow(client.getInetAddress())) {
                reset(client);
                continue;
            }
            Link link = new Link(client);
            links.add(link);
            daemon(() -> link.open(), "tcp-proxy-" + port() + "-open").start();
        }
    }

    private final class Link {
        private final Socket client;
        private volatile Socket upstream;
        /** Set by a match of {@link #dropRepliesAfter}: the server's bytes are discarded from then on. */
        private volatile boolean repliesDropped;
        /** The last bytes sent to the server, so that a text split across two reads is still matched. */
        private byte[] sentTail = new byte[0];

        Link(Socket client) {
            this.client = client;
        }

        void open() {
            try {
                if (awaitNotBlackholed(client.getInetAddress()) != Mode.FORWARD) {
                    reset();
                    return;
                }
                Socket up = new Socket();
                upstream = up;
                up.connect(new InetSocketAddress(targetHost, targetPort), CONNECT_TIMEOUT_MS);
                up.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
                daemon(() -> pump(client, up, true), "tcp-proxy-" + port() + "-up")
                        .start();
                daemon(() -> pump(up, client, false), "tcp-proxy-" + port() + "-down")
                        .start();
            } catch (IOException e) {
                reset();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reset();
            }
        }

        private void pump(Socket from, Socket to, boolean toServer) {
            byte[] buf = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (awaitNotBlackholed(client.getInetAddress()) != Mode.FORWARD) {
                        break;
                    }
                    if (toServer) {
                        matchReplyCut(buf, n);
                    } else if (repliesDropped) {
                        continue; // the reply is lost
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
                close(); // orderly EOF from one side: close both
            } catch (SocketException e) {
                reset();
            } catch (IOException e) {
                reset();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reset();
            }
        }

        /** Arms this connection's reply cut when {@link #dropRepliesAfter}'s text is in what is being sent. */
        private void matchReplyCut(byte[] buf, int n) {
            byte[] text;
            synchronized (lock) {
                text = replyCutText;
                if (text == null || !(replyCutSources.isEmpty() || replyCutSources.contains(client.getInetAddress()))) {
                    return;
                }
            }
            byte[] window = new byte[sentTail.length + n];
            System.arraycopy(sentTail, 0, window, 0, sentTail.length);
            System.arraycopy(buf, 0, window, sentTail.length, n);
            int keep = Math.min(window.length, text.length - 1);
            sentTail = java.util.Arrays.copyOfRange(window, window.length - keep, window.length);
            if (indexOf(window, text) < 0) {
                return;
            }
            synchronized (lock) {
                if (replyCutText != text) {
                    return; // another connection matched first, or healed meanwhile
                }
                replyCutText = null;
            }
            repliesDropped = true;
            replyDropped.set(true);
            log.info("proxy {} -> {}:{}: a request matched; its replies are dropped", port(), targetHost, targetPort);
        }

        void reset() {
            TcpProxy.reset(client);
            Socket up = upstream;
            if (up != null) {
                TcpProxy.reset(up);
            }
            links.remove(this);
        }

        private void close() {
            closeQuietly(client);
            Socket up = upstream;
            if (up != null) {
                closeQuietly(up);
            }
            links.remove(this);
        }
    }

    private static int indexOf(byte[] data, byte[] text) {
        outer:
        for (int i = 0; i + text.length <= data.length; i++) {
            for (int j = 0; j < text.length; j++) {
                if (data[i + j] != text[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Close with SO_LINGER 0: the peer gets an RST ("connection reset"), not an orderly EOF. */
    private static void reset(Socket s) {
        try {
            if (!s.isClosed()) {
                s.setSoLinger(true, 0);
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public String toString() {
        return "TcpProxy[127.0.0.1:" + port() + " -> " + targetHost + ":" + targetPort + "]";
    }
}
