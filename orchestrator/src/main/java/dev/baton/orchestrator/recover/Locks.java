package dev.baton.orchestrator.recover;

import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ending an operation: releasing the lock never throws, so a failure there never hides the operation's own. */
final class Locks {
    private static final Logger log = LoggerFactory.getLogger(Locks.class);

    private Locks() {}

    static void release(InterProcessMutex lock) {
        try {
            lock.release();
        } catch (Exception e) {
            log.warn("releasing the cluster lock failed; it goes with the ZooKeeper session: {}", e.toString());
        }
    }
}
