package dev.baton.bench;

import dev.baton.registry.PrimaryRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code baton sandbox up}: a live local installation to try Baton on, until Ctrl-C. */
@Command(
        name = "sandbox",
        description = "A local playground: a real cluster, ZooKeeper and the orchestrator with its HTTP API.",
        subcommands = {SandboxCommand.Up.class})
final class SandboxCommand {
    @Command(
            name = "up",
            description = "Start a primary and two replicas, an embedded ZooKeeper and the orchestrator with its HTTP"
                    + " API; print how to reach them and what to try; stay up until Ctrl-C, then remove everything.")
    static final class Up implements Callable<Integer> {
        @Option(
                names = "--dialect",
                defaultValue = "postgresql",
                description = "postgresql or mariadb (default: ${DEFAULT-VALUE})")
        String dialect;

        @Option(
                names = "--port",
                defaultValue = "8008",
                description = "the HTTP API's port on 127.0.0.1 (default: ${DEFAULT-VALUE}; 0 picks a free one)")
        int port;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port: " + port + " is not a TCP port (0-65535)");
            }
            BatonMain.quietLogs();
            PrintWriter out = spec.commandLine().getOut();
            CountDownLatch stopped = new CountDownLatch(1);
            try (FailoverScenario scenario = FailoverScenario.prepare(dialect, step -> say(out, step), port)) {
                Thread cleanup = new Thread(
                        () -> {
                            BatonMain.silenceLogs();
                            say(out, "stopping every server and removing the sandbox ...");
                            scenario.close();
                            stopped.countDown();
                        },
                        "baton-sandbox-cleanup");
                Runtime.getRuntime().addShutdownHook(cleanup);
                say(out, "starting the orchestrator ...");
                PrimaryRecord primary = scenario.startOrchestratorAndApplication(event -> {}, Duration.ofSeconds(30));
                printHowTo(out, scenario, primary);
                stopped.await();
            }
            return 0;
        }

        private void printHowTo(PrintWriter out, FailoverScenario scenario, PrimaryRecord primary) {
            String config = scenario.configFile().toString();
            LocalCluster cluster = scenario.cluster();
            String api = scenario.apiUrl();
            String other = primary.nodeId().equals("pg2") ? "pg3" : "pg2";
            String c = FailoverScenario.CLUSTER;
            out.println();
            out.println("Baton sandbox is up (" + dialect + "): cluster '" + c + "', primary " + primary.nodeId()
                    + " at " + primary.address() + ", epoch " + primary.epoch());
            for (var n : cluster.nodes()) {
                out.println("  " + n.id() + "  " + n.host() + ":" + n.port());
            }
            out.println();
            out.println("config file:  " + config);
            out.println("ZooKeeper:    " + scenario.zooKeeper().connectString());
            out.println("JDBC URL:     jdbc:baton:zk://" + scenario.zooKeeper().connectString() + "/" + c
                    + "?database=" + cluster.database() + "   user " + cluster.user() + ", password "
                    + cluster.password());
            out.println("HTTP API:     " + api + "   status page: " + api + "/");
            out.println("API token:    export BATON_API_TOKEN=" + scenario.apiToken());
            out.println();
            out.println("Try, in another terminal:");
            out.println("  bin/baton status --config " + config);
            out.println("  bin/baton switchover --config " + config + " --to " + other + " --yes");
            out.println("  bin/baton pause --config " + config + "      # and: resume, history");
            out.println("  curl -s " + api + "/clusters/" + c);
            out.println("  curl -s -o /dev/null -w '%{http_code}\\n' '" + api + "/clusters/" + c + "/primary?node="
                    + primary.nodeId() + "'");
            out.println("  curl -s -X POST -H \"Authorization: Bearer $BATON_API_TOKEN\" -d '{\"to\":\"" + other
                    + "\"}' " + api + "/clusters/" + c + "/switchover");
            out.println("  curl -s " + api + "/metrics | grep ^baton_");
            out.println("  kill -9 the primary's postmaster or mariadbd and watch the status page fail over");
            out.println();
            out.println("Ctrl-C stops everything and removes the sandbox.");
            out.flush();
        }

        private static void say(PrintWriter out, String text) {
            out.println("sandbox: " + text);
            out.flush();
        }
    }
}
