package dev.baton.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/**
 * In-process ZooKeeper servers (curator-test, like the sandbox's) that accept any number of connections from one
 * address. ZooKeeper allows 60 per client IP by default ({@code maxClientCnxns}), and the fan-out benchmark opens
 * one session per data source, all from 127.0.0.1; the sandbox's {@code ZooKeeperEnsemble} keeps that default.
 */
final class FanoutZooKeeper implements AutoCloseable {
    private final TestingCluster cluster;

    private FanoutZooKeeper(TestingCluster cluster) {
        this.cluster = cluster;
    }

    /** {@code size} servers (1, or 3 for a real quorum), each on free loopback ports with a temp data dir. */
    static FanoutZooKeeper start(int size) throws Exception {
        if (size < 1 || size > 5) {
            throw new IllegalArgumentException("--zookeepers: " + size + " is not between 1 and 5");
        }
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            // data dir: a fresh temp dir, deleted on close; ports and server id: free ones; maxClientCnxns 0: no limit
            specs.add(new InstanceSpec(null, -1, -1, -1, true, -1, -1, 0));
        }
        TestingCluster cluster = new TestingCluster(specs);
        try {
            cluster.start();
            return new FanoutZooKeeper(cluster);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
    }

    String connectString() {
        return cluster.getConnectString();
    }

    @Override
    public void close() throws IOException {
        cluster.close();
    }
}
