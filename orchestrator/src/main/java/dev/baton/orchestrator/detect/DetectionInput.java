package dev.baton.orchestrator.detect;

import dev.baton.orchestrator.topology.Topology;
import java.time.Duration;
import java.time.Instant;

/**
 * Everything the detector looks at.
 *
 * @param publishedPrimary the node of the current primary record, or null when none is published
 * @param primaryFailures consecutive failed probes of the published primary (authentication failures excluded)
 * @param lastFailover when Baton last failed over automatically (null if never): the anti-flap window counts from it;
 *     a planned switchover does not start it
 */
public record DetectionInput(
        Topology topology,
        String publishedPrimary,
        int primaryFailures,
        int failureThreshold,
        boolean paused,
        boolean zooKeeperConnected,
        Instant lastFailover,
        Duration antiFlapWindow,
        Instant now) {}
