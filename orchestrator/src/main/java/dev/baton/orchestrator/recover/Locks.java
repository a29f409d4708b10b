package dev.baton.orchestrator.recover;

import dev.baton.orchestrator.coordination.ClusterRegistry;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ending an operation: each step on its own, so that a failure of one never keeps the cluster lock held. */
final class Locks {
    private static final Logger log = LoggerFactory.getLogger(Locks.class);

    private Locks() {}

    /** Deletes the operation record (while still holding the lock), then releases the lock. */
    static void clearThenRelease(InterProcessMutex lock, ClusterRegistry registry) {
        try {
            registry.clearOperation();
        } catch (Exception e) {
            log.warn(
                    "could not delete the operation record; the next leader will find and settle it: {}", e.toString());
        }
        try {
            lock.release();
        } catch (Exception e) {
            log.warn("releasing the cluster lock failed; it goes with the ZooKeeper session: {}", e.toString());
        }
    }
}
