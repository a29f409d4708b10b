package dev.baton.orchestrator.monitor;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.dialect.SqlFailures;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes one node over a connection it keeps open between probes. A probe that does not answer within the
 * timeout counts as failed and its connection is aborted; while it is still stuck (a hung server, a partition),
 * later probes fail at once instead of queueing behind it.
 */
final class NodeProber implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NodeProber.class);

    private final Dialect dialect;
    private final NodeConfig node;
    private final Duration timeout;
    private final String secret;
    private final Clock clock;
    private final ExecutorService worker;
    private Connection connection; // touched only by the worker thread, and by abort()
    private Future<NodeObservation> inFlight;
    /** How long the last probe took (a timed-out one: the timeout), for metrics. */
    private volatile long lastProbeNanos = -1;

    NodeProber(Dialect dialect, NodeConfig node, Duration timeout, String secret, Clock clock) {
        this.dialect = dialect;
        this.node = node;
        this.timeout = timeout;
        this.secret = secret;
        this.clock = clock;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "baton-probe-" + node.id());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts a probe; {@link #await} collects it. */
    synchronized void begin() {
        if (inFlight == null || inFlight.isDone()) {
            inFlight = worker.submit(this::probeNow);
        }
    }

    /** The result of the probe started by {@link #begin}, waiting at most until {@code deadlineNanos}. */
    NodeObservation await(long deadlineNanos) {
        Future<NodeObservation> probe;
        synchronized (this) {
            probe = inFlight;
        }
        if (probe == null) {
            return NodeObservation.unreachable(node, clock.instant(), FailureKind.OTHER, "not probed yet");
        }
        try {
            long wait = Math.max(0, deadlineNanos - System.nanoTime());
            return probe.get(wait, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            lastProbeNanos = timeout.toNanos();
            abortConnection();
            return NodeObservation.unreachable(
                    node, clock.instant(), FailureKind.TIMEOUT, "no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return NodeObservation.unreachable(node, clock.instant(), FailureKind.OTHER, "interrupted");
        } catch (ExecutionException e) {
            return NodeObservation.unreachable(
                    node, clock.instant(), FailureKind.OTHER, SqlFailures.describe(e.getCause(), secret));
        }
    }

    /** How long the last finished (or timed-out) probe took, or null before the first one. */
    Duration lastProbeTime() {
        long nanos = lastProbeNanos;
        return nanos < 0 ? null : Duration.ofNanos(nanos);
    }

    private NodeObservation probeNow() {
        long started = System.nanoTime();
        try {
            return probeOnce();
        } finally {
            lastProbeNanos = System.nanoTime() - started;
        }
    }

    private NodeObservation probeOnce() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = dialect.connect(node, timeout);
            }
            return dialect.observe(connection, node, clock.instant());
        } catch (SQLException e) {
            closeQuietly();
            FailureKind kind = SqlFailures.classify(e);
            String message = SqlFailures.describe(e, secret);
            log.debug("probe of {} failed ({}): {}", node.id(), kind, message);
            return NodeObservation.unreachable(node, clock.instant(), kind, message);
        } catch (RuntimeException e) {
            closeQuietly();
            return NodeObservation.unreachable(
                    node, clock.instant(), FailureKind.OTHER, SqlFailures.describe(e, secret));
        }
    }

    private void abortConnection() {
        Connection c = connection;
        if (c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException | RuntimeException e) {
                log.debug("abort of the probe connection to {} failed", node.id(), e);
            }
        }
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing the probe connection to {} failed", node.id(), e);
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        abortConnection();
        worker.shutdownNow();
    }
}
