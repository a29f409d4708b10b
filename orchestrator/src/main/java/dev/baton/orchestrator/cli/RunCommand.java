package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.Orchestrator;
import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "run",
        description = "Run the orchestrator: watch every configured cluster and fail over when a primary dies.")
final class RunCommand implements Callable<Integer> {
    @Option(
            names = {"-c", "--config"},
            required = true,
            description = "YAML configuration file")
    Path config;

    @Override
    public Integer call() throws Exception {
        BatonConfig loaded = ConfigLoader.load(config);
        Orchestrator orchestrator = new Orchestrator(loaded, event -> {}, Clock.systemUTC());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            orchestrator.close();
                            stopped.countDown();
                        },
                        "baton-shutdown"));
        orchestrator.start();
        stopped.await();
        return 0;
    }
}
