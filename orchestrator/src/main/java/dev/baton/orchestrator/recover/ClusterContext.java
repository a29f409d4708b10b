package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.EventSink;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.orchestrator.coordination.ClusterLock;
import dev.baton.orchestrator.coordination.ClusterRegistry;
import dev.baton.orchestrator.dialect.Dialect;
import dev.baton.orchestrator.monitor.ClusterMonitor;
import java.time.Clock;
import java.util.function.BooleanSupplier;

/**
 * What an operation on one cluster works with: its configuration and dialect, its part of ZooKeeper, the
 * monitor for fresh probes, the cluster lock, whether this orchestrator may still act, and where events go.
 */
public record ClusterContext(
        ClusterConfig cluster,
        Dialect dialect,
        ClusterRegistry registry,
        ClusterMonitor monitor,
        ClusterLock lock,
        BooleanSupplier mayAct,
        EventSink events,
        Clock clock,
        Hooks hooks) {}
