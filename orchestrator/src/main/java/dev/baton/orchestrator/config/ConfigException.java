package dev.baton.orchestrator.config;

/** A configuration that cannot be used; the message names the key, the value (never a secret) and the rule. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
