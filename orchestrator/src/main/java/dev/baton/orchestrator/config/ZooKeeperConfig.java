package dev.baton.orchestrator.config;

import java.time.Duration;

public record ZooKeeperConfig(String connect, String namespace, Duration sessionTimeout, Duration connectionTimeout) {}
