package dev.baton.orchestrator;

import dev.baton.orchestrator.config.NodeConfig;
import dev.baton.orchestrator.topology.FailureKind;
import dev.baton.orchestrator.topology.NodeObservation;
import dev.baton.orchestrator.topology.Position;
import dev.baton.orchestrator.topology.PositionOrder;
import dev.baton.orchestrator.topology.Topology;
import dev.baton.registry.NodeRole;
import java.time.Instant;
import java.util.List;

/** Hand-written observations for the pure decision tests. */
public final class Fixtures {
    public static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private Fixtures() {}

    /** A position on a timeline at a byte offset. */
    public record Pos(long timeline, long offset) implements Position {
        public String text() {
            return timeline + "/" + offset;
        }
    }

    public static final PositionOrder ORDER = new PositionOrder() {
        public int compare(Position a, Position b) {
            Pos x = (Pos) a;
            Pos y = (Pos) b;
            int t = Long.compare(x.timeline(), y.timeline());
            return t != 0 ? t : Long.compare(x.offset(), y.offset());
        }

        public long distance(Position ahead, Position behind) {
            Pos a = (Pos) ahead;
            Pos b = (Pos) behind;
            return a.timeline() != b.timeline() ? -1 : Math.max(0, a.offset() - b.offset());
        }
    };

    public static NodeConfig node(String id) {
        return new NodeConfig(id, "127.0.0.1", 5000 + id.hashCode() % 1000, 0, false);
    }

    public static NodeObservation primary(String id, long offset) {
        Pos p = new Pos(1, offset);
        return new NodeObservation(
                node(id), NOW, true, null, null, NodeRole.PRIMARY, 1, p, p, false, null, 0, false, true);
    }

    public static NodeObservation replica(String id, long received, boolean streaming) {
        return replica(node(id), received, received, streaming);
    }

    public static NodeObservation replica(NodeConfig node, long received, long applied, boolean streaming) {
        return new NodeObservation(
                node,
                NOW,
                true,
                null,
                null,
                NodeRole.REPLICA,
                1,
                new Pos(1, received),
                new Pos(1, applied),
                streaming,
                streaming ? "127.0.0.1:5000" : null,
                0,
                true,
                true);
    }

    public static NodeObservation down(String id) {
        return NodeObservation.unreachable(node(id), NOW, FailureKind.CONNECTION, "Connection refused");
    }

    public static Topology topology(NodeObservation... nodes) {
        return new Topology("orders", NOW, List.of(nodes));
    }
}
