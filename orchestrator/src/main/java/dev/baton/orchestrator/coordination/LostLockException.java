package dev.baton.orchestrator.coordination;

/**
 * A write that acts on the cluster was refused because the cluster-lock node it checks is gone: the session that
 * held the lock expired, so another orchestrator may be acting. Nothing was written; stop acting.
 */
public final class LostLockException extends Exception {
    public LostLockException(String message) {
        super(message);
    }
}
