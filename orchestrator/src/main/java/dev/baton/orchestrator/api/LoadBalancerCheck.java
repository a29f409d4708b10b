package dev.baton.orchestrator.api;

import dev.baton.orchestrator.admin.ClusterStatus;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.registry.NodeRole;
import dev.baton.registry.NodeState;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The answers a load balancer's health check gets, in Patroni's style: 200 only for a node that should take the
 * traffic, 503 with the reason otherwise. Pure functions of a {@link ClusterStatus}; an observation older than a few
 * polls never answers 200 (nobody is watching the cluster).
 */
final class LoadBalancerCheck {
    private static final Pattern LAG = Pattern.compile("(\\d{1,18})\\s*(s|ms|kB|MB|GB)?");

    private LoadBalancerCheck() {}

    /** A check's answer: 200 or 503, and why. */
    record Answer(boolean ok, String node, String role, String reason) {
        int status() {
            return ok ? 200 : 503;
        }
    }

    /** A lag limit: an amount in the dialect's unit (bytes, transactions) or a replay delay in seconds. */
    record Lag(long amount, double seconds) {
        static Lag parse(String text, ClusterConfig.Dialect dialect) {
            Matcher m = LAG.matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("lag: '" + text + "' is not a lag limit: a number of "
                        + unit(dialect) + " (PostgreSQL also 16MB, 512kB, 1GB) or seconds (10s, 500ms)");
            }
            long n = Long.parseLong(m.group(1));
            String suffix = m.group(2) == null ? "" : m.group(2);
            if (!suffix.isEmpty() && suffix.endsWith("B") && dialect != ClusterConfig.Dialect.POSTGRESQL) {
                throw new IllegalArgumentException("lag: '" + text + "': the " + dialect.key()
                        + " dialect measures lag in transactions, not bytes");
            }
            return switch (suffix) {
                case "s" -> new Lag(-1, n);
                case "ms" -> new Lag(-1, n / 1000.0);
                case "kB" -> new Lag(Math.multiplyExact(n, 1024L), -1);
                case "MB" -> new Lag(Math.multiplyExact(n, 1024L * 1024), -1);
                case "GB" -> new Lag(Math.multiplyExact(n, 1024L * 1024 * 1024), -1);
                default -> new Lag(n, -1);
            };
        }

        /** Why {@code s} is beyond this limit, or null when it is within. */
        String exceededBy(NodeState s, ClusterConfig.Dialect dialect) {
            if (seconds >= 0) {
                if (s.lagSeconds() < 0) {
                    return "its replay delay is unknown";
                }
                return s.lagSeconds() > seconds
                        ? "replay delay " + s.lagSeconds() + " s is over the limit of " + seconds + " s"
                        : null;
            }
            if (s.lagBytes() < 0) {
                return "its lag is unknown";
            }
            return s.lagBytes() > amount
                    ? "lag " + s.lagBytes() + " " + unit(dialect) + " is over the limit of " + amount
                    : null;
        }

        private static String unit(ClusterConfig.Dialect dialect) {
            return dialect == ClusterConfig.Dialect.POSTGRESQL ? "bytes" : "transactions";
        }
    }

    /** 200 only when {@code node} is the published primary and was last seen running writable. */
    static Answer primary(ClusterStatus status, String node, Instant now) {
        NodeState s = status.states().get(node);
        String stale = staleness(status, now);
        if (stale != null) {
            return new Answer(false, node, role(s), stale);
        }
        if (status.primary().isEmpty()) {
            return new Answer(
                    false,
                    node,
                    role(s),
                    "no primary is published for cluster " + status.cluster().name());
        }
        String published = status.primary().get().nodeId();
        if (!published.equals(node)) {
            return new Answer(false, node, role(s), "the published primary is " + published + ", not " + node);
        }
        if (s == null || !s.reachable() || s.role() != NodeRole.PRIMARY || s.fenced()) {
            return new Answer(
                    false, node, role(s), node + " is published but not running writable: " + ClusterStatus.state(s));
        }
        return new Answer(
                true,
                node,
                "primary",
                node + " is the primary (epoch " + status.primary().get().epoch() + ")");
    }

    /** 200 only when {@code node} is a streaming replica, within {@code lag} when given. */
    static Answer replica(ClusterStatus status, String node, Lag lag, Instant now) {
        NodeState s = status.states().get(node);
        String stale = staleness(status, now);
        if (stale != null) {
            return new Answer(false, node, role(s), stale);
        }
        if (status.primary().map(p -> p.nodeId().equals(node)).orElse(false)) {
            return new Answer(false, node, role(s), node + " is the published primary");
        }
        if (s == null || !s.reachable() || s.role() != NodeRole.REPLICA || !s.streaming() || s.needsRejoin()) {
            return new Answer(false, node, role(s), node + " is not a streaming replica: " + ClusterStatus.state(s));
        }
        String over = lag == null ? null : lag.exceededBy(s, status.cluster().dialect());
        if (over != null) {
            return new Answer(false, node, "replica", node + ": " + over);
        }
        return new Answer(
                true,
                node,
                "replica",
                node + " is a streaming replica" + (s.lagBytes() >= 0 ? ", lag " + s.lagBytes() : ""));
    }

    private static String staleness(ClusterStatus status, Instant now) {
        if (status.fresh(now)) {
            return null;
        }
        return status.observedAt() == null
                ? "no node state was ever published for cluster "
                        + status.cluster().name()
                : "the node states are " + status.dataAge(now).toSeconds() + " s old: no orchestrator is watching"
                        + " cluster " + status.cluster().name();
    }

    private static String role(NodeState s) {
        return s == null || !s.reachable() ? "unknown" : s.role().name().toLowerCase(Locale.ROOT);
    }
}
