package dev.baton.orchestrator.coordination;

/** A value read from ZooKeeper with the node version a compare-and-set write must name. */
public record Versioned<T>(T value, int version) {}
