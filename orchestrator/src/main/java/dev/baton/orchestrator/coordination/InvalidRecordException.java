package dev.baton.orchestrator.coordination;

/** A znode Baton must act on holds something Baton did not write: the orchestrator acts on nothing it implies. */
public final class InvalidRecordException extends Exception {
    public InvalidRecordException(String message) {
        super(message);
    }
}
