package dev.baton.orchestrator.coordination;

import dev.baton.registry.AgentRecord;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.io.Closeable;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' records of one cluster ({@link RegistryPaths#agents(String)}), kept current by a cache, with the moment
 * (this process's monotonic clock) each agent's server was first reported down. {@code onDown} runs when an agent
 * reports its server down, on Curator's event thread: the supervisor wakes up for it instead of waiting for its next
 * poll.
 */
public final class AgentReports implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(AgentReports.class);

    /** An agent's latest record, and since when (monotonic nanos) its server has been reported down (or 0). */
    public record Report(AgentRecord record, long downSinceNanos) {}

    private final String cluster;
    private final String root;
    private final LongSupplier nanos;
    private final java.util.function.Consumer<String> onDown;
    private final CuratorCache cache;
    private final Map<String, Report> reports = new ConcurrentHashMap<>();

    public AgentReports(
            CuratorFramework client, String cluster, LongSupplier nanos, java.util.function.Consumer<String> onDown) {
        this.cluster = cluster;
        this.root = RegistryPaths.agents(cluster);
        this.nanos = nanos;
        this.onDown = onDown;
        this.cache = CuratorCache.build(client, root);
        cache.listenable()
                .addListener(CuratorCacheListener.builder()
                        .forCreatesAndChanges((before, node) -> changed(node))
                        .forDeletes(this::deleted)
                        .build());
    }

    public void start() {
        cache.start();
    }

    private String nodeOf(ChildData data) {
        if (data == null || !root.equals(ZKPaths.getPathAndNode(data.getPath()).getPath())) {
            return null;
        }
        return ZKPaths.getNodeFromPath(data.getPath());
    }

    private void changed(ChildData data) {
        String node = nodeOf(data);
        if (node == null) {
            return;
        }
        AgentRecord record;
        try {
            record = RegistryJson.read(data.getData(), AgentRecord.class);
        } catch (RuntimeException e) {
            log.warn("[{}] ignoring the unreadable agent record of {}: {}", cluster, node, e.getMessage());
            reports.remove(node);
            return;
        }
        if (!node.equals(record.node())) {
            log.warn("[{}] ignoring the agent record at {} that names node {}", cluster, node, record.node());
            reports.remove(node);
            return;
        }
        Report before = reports.get(node);
        boolean wasDown = before != null && before.record().serverGone();
        long downSince = record.serverGone() ? (wasDown ? before.downSinceNanos() : nanos.getAsLong()) : 0;
        reports.put(node, new Report(record, downSince));
        if (record.serverGone() && !wasDown) {
            onDown.accept(node);
        }
    }

    private void deleted(ChildData data) {
        String node = nodeOf(data);
        if (node != null) {
            reports.remove(node);
        }
    }

    /** The latest report of {@code node}'s agent, if it has one that is connected. */
    public Optional<Report> of(String node) {
        return Optional.ofNullable(reports.get(node));
    }

    /** Every connected agent's latest report, by node. */
    public Map<String, Report> all() {
        return Map.copyOf(reports);
    }

    /**
     * What {@code node}'s agent reports, when it proves that nothing can commit on that node's server: it reports the
     * server down now, and first did so at or after {@code notBeforeNanos} (the start of the last round in which the
     * server answered, {@link Long#MIN_VALUE} when it has not answered since this orchestrator started), so that a
     * report older than the server's last answer proves nothing. Null when there is no such proof.
     */
    public String proofOfDeath(String node, long notBeforeNanos) {
        Report r = reports.get(node);
        if (r == null
                || !r.record().serverGone()
                || notBeforeNanos == Long.MIN_VALUE
                || r.downSinceNanos() - notBeforeNanos < 0) {
            return null;
        }
        return "its agent reports the server " + r.record().server() + ": "
                + r.record().detail();
    }

    @Override
    public void close() {
        cache.close();
    }
}
