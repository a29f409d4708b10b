package dev.baton.registry;

import java.time.Instant;

/**
 * Published at {@link RegistryPaths#hold(String)} (an ephemeral node) while a planned switchover moves the
 * primary: wrappers queue new borrows until it disappears or a newer primary record arrives.
 */
public record HoldRecord(String operationId, String fromNode, String toNode, long epoch, Instant since) {}
