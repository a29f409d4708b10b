package dev.baton.orchestrator.coordination;

/** A versioned write lost the race: someone else changed the node since it was read. */
public final class StaleWriteException extends Exception {
    public StaleWriteException(String message) {
        super(message);
    }
}
