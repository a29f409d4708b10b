package dev.baton.orchestrator.coordination;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

/**
 * The per-cluster {@link InterProcessMutex}, telling which ephemeral node holds it for the calling thread. Every write
 * that acts on the cluster checks that node in the same ZooKeeper transaction: once this orchestrator's session
 * expires the node is gone, and a late write fails however its retries were timed.
 */
public final class ClusterLock extends InterProcessMutex {
    public ClusterLock(CuratorFramework client, String path) {
        super(client, path);
    }

    /** The lock node this thread holds, or null when it holds none. */
    public String heldPath() {
        return getLockPath();
    }
}
