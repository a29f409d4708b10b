package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.Orchestrator;
import dev.baton.orchestrator.config.BatonConfig;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
        name = "run",
        description = "Run the orchestrator: watch every configured cluster and fail over when a primary dies.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions options;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = options.load();
        if (options.cluster != null) { // supervise only this cluster
            loaded = new BatonConfig(
                    loaded.zookeeper(),
                    loaded.orchestratorId(),
                    java.util.List.of(options.cluster(loaded)),
                    loaded.http());
        }
        // Refused writes (a wrong or missing zookeeper.digest) are said now, in one line, not found out by a leader
        // that never leads.
        BatonConfig supervised = loaded;
        ClusterOptions.withZooKeeper(supervised, client -> {
            for (var cluster : supervised.clusters()) {
                try {
                    client.create()
                            .creatingParentContainersIfNeeded()
                            .forPath(dev.baton.registry.RegistryPaths.leader(cluster.name()));
                } catch (org.apache.zookeeper.KeeperException.NodeExistsException e) {
                    // as expected after the first run; ZooKeeper checks the right to create before that
                }
            }
            return 0;
        });
        Orchestrator orchestrator = new Orchestrator(loaded, event -> {}, Clock.systemUTC());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            orchestrator.close();
                            stopped.countDown();
                        },
                        "baton-shutdown"));
        if (supervised.zookeeper().digest() == null) {
            org.slf4j.LoggerFactory.getLogger(RunCommand.class)
                    .warn("zookeeper.digest is not set: any ZooKeeper client can rewrite the primary record (Baton"
                            + " validates it and acts on nothing it cannot trust, but an operator should set digest"
                            + " ACLs; see docs/configuration.md, ZooKeeper ACLs)");
        }
        orchestrator.start();
        stopped.await();
        return 0;
    }
}
