package dev.baton.bench;

import dev.baton.sandbox.ZooKeeperEnsemble;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "serve",
        description = "Run a throwaway local ZooKeeper ensemble (data in a temporary directory, removed on exit) for"
                + " trying Baton on one machine. Not for production.")
final class ZkServeCommand implements Callable<Integer> {
    @Option(names = "--nodes", defaultValue = "1", description = "1 or 3 servers (default: ${DEFAULT-VALUE})")
    int nodes;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (nodes != 1 && nodes != 3) {
            throw new IllegalArgumentException("--nodes: " + nodes + " must be 1 or 3");
        }
        BatonMain.quietLogs();
        PrintWriter out = spec.commandLine().getOut();
        try (ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.start(nodes)) {
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                ensemble.close();
                                stop.countDown();
                            },
                            "baton-zk-stop"));
            out.println("ZooKeeper ensemble of " + nodes + " running: connect string " + ensemble.connectString());
            out.println("Ctrl-C stops it and removes its data.");
            out.flush();
            stop.await();
        }
        return 0;
    }
}
