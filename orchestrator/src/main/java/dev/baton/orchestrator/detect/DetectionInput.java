package dev.baton.orchestrator.detect;

import dev.baton.orchestrator.topology.Topology;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Everything the detector looks at.
 *
 * @param publishedPrimary the node of the current primary record, or null when none is published
 * @param publishedAddress the record's host:port, which a replica that follows the primary replicates from; null
 *     counts every replica as a follower
 * @param primaryFailures consecutive failed probes of the published primary (authentication failures excluded)
 * @param lastFailover when Baton last failed over automatically (null if never): the anti-flap window counts from it;
 *     a planned switchover does not start it
 * @param lastProgress per replica, when its received position last moved (or when it was first seen)
 * @param primaryLastContact when a probe of the published primary last succeeded (null if not in this leadership)
 * @param silence how long a follower whose receiver still claims to stream may receive nothing, while the
 *     orchestrator cannot reach the primary either, before it counts as having lost the primary (a hung or isolated
 *     primary leaves the receivers connected until their own timeouts, 60 s by default)
 * @param proofOfDeath the published primary's agent reports that no process of its server runs (its words), or null:
 *     the primary is then dead as soon as the orchestrator cannot reach it either, without more failed probes or the
 *     replicas' word
 */
public record DetectionInput(
        Topology topology,
        String publishedPrimary,
        String publishedAddress,
        int primaryFailures,
        int failureThreshold,
        boolean paused,
        boolean zooKeeperConnected,
        Instant lastFailover,
        Duration antiFlapWindow,
        Map<String, Instant> lastProgress,
        Instant primaryLastContact,
        Duration silence,
        Instant now,
        String proofOfDeath) {
    public DetectionInput {
        lastProgress = Map.copyOf(lastProgress);
    }

    /** The same input with another failure threshold (to ask what the detector would say at fewer failures). */
    public DetectionInput withFailureThreshold(int threshold) {
        return new DetectionInput(
                topology,
                publishedPrimary,
                publishedAddress,
                primaryFailures,
                threshold,
                paused,
                zooKeeperConnected,
                lastFailover,
                antiFlapWindow,
                lastProgress,
                primaryLastContact,
                silence,
                now,
                proofOfDeath);
    }
}
