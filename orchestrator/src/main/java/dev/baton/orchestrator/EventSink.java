package dev.baton.orchestrator;

import dev.baton.registry.NodeState;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs an operator-visible event at INFO and hands it to the listener. */
public final class EventSink {
    private static final Logger log = LoggerFactory.getLogger("dev.baton.events");

    private final String cluster;
    private final ClusterEvent.Listener listener;
    private final Clock clock;

    public EventSink(String cluster, ClusterEvent.Listener listener, Clock clock) {
        this.cluster = cluster;
        this.listener = listener;
        this.clock = clock;
    }

    public void emit(ClusterEvent.Kind kind, String node, String message) {
        if (kind == ClusterEvent.Kind.FAILOVER_REFUSED
                || kind == ClusterEvent.Kind.PRIMARY_UNREACHABLE_BUT_REPLICATING) {
            log.warn("[{}] {}", cluster, message);
        } else {
            log.info("[{}] {}", cluster, message);
        }
        try {
            listener.on(new ClusterEvent(clock.instant(), cluster, kind, node, message));
        } catch (RuntimeException e) {
            log.warn("[{}] event listener failed", cluster, e);
        }
    }

    /** Hands a round's published node states and probe times to the listener (see {@link ClusterEvent.Listener}). */
    public void observed(List<NodeState> states, Map<String, Duration> probeTimes) {
        try {
            listener.observed(cluster, states, probeTimes);
        } catch (RuntimeException e) {
            log.warn("[{}] event listener failed on a round's observations", cluster, e);
        }
    }
}
