package dev.baton.jmh;

import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * {@code bin/baton bench jmh}: starts a real PostgreSQL primary (server defaults) and an embedded ZooKeeper,
 * publishes the primary record, and runs {@link WrapperOverhead} with JMH in forked JVMs.
 *
 * <p>On a machine shared with other work, the load drifts over minutes; JMH runs all forks of one parameter before
 * the next, so drift would land on one side. Here every round runs one fork per side, HikariCP and Baton in turns
 * (hikari-baton, then baton-hikari, ...), and the summary pools the iterations of all rounds per side (mean and
 * JMH's 99.9 % error over them) and gives each round's ratio. Arguments are JMH's own ({@code -wi}, {@code -i},
 * {@code -w}, {@code -r}, {@code -t}, {@code -prof}, {@code -v}, a benchmark regex, ...) plus {@code --rounds N};
 * unset ones get the defaults below, which finish in about four minutes.
 */
public final class WrapperJmh {
    static final String CLUSTER = "jmh";
    static final int ROUNDS = 4;
    static final int WARMUP_ITERATIONS = 2;
    static final int ITERATIONS = 4;
    static final TimeValue ITERATION_TIME = TimeValue.seconds(2);
    private static final List<String> POOLS = List.of("hikari", "baton");

    private WrapperJmh() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        List<String> jmhArgs = new ArrayList<>(List.of(args));
        boolean help = jmhArgs.remove("--help") | jmhArgs.remove("-h");
        int rounds = takeRounds(jmhArgs);
        CommandLineOptions cmd = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        if (help || cmd.shouldHelp()) {
            out.println(HELP);
            new CommandLineOptions("-h").showHelp();
            return;
        }
        if (cmd.shouldList() || cmd.shouldListProfilers() || cmd.shouldListResultFormats()) {
            new Runner(cmd).list();
            return;
        }
        out.printf(
                "wrapper overhead (JMH): %d rounds of one fork per side, %d cores, load average %s%n",
                rounds, Runtime.getRuntime().availableProcessors(), LoadAverage.read());
        try (PostgresSandbox pg = PostgresSandbox.start(0);
                EmbeddedZooKeeper zk = EmbeddedZooKeeper.start()) {
            PgNode primary = pg.nodes().get(0);
            // before any fork starts: the forks inherit this JVM's core
            out.println("placement: " + dev.baton.sandbox.CorePinning.pin(pg.nodes()));
            primary.sql("CREATE TABLE kv (id int PRIMARY KEY, v text NOT NULL);"
                    + " INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, " + WrapperOverhead.ROWS
                    + ") AS g; ANALYZE kv;");
            publish(zk.connectString(), primary);
            Target target = new Target(
                    zk.connectString(), CLUSTER, primary.host(), primary.port(), "postgres", pg.user(), pg.password());
            Scores scores = new Scores();
            for (int round = 1; round <= rounds; round++) {
                List<String> order = round % 2 == 1 ? POOLS : List.of(POOLS.get(1), POOLS.get(0));
                for (String pool : order) {
                    for (RunResult r : new Runner(options(cmd, target, pool)).run()) {
                        scores.add(round, pool, r);
                        out.println(Scores.describe(round, pool, r));
                        out.flush();
                    }
                }
            }
            out.println();
            scores.print(out);
            out.println();
            paired(out, cmd, target, rounds);
            out.printf("load average after: %s%n", LoadAverage.read());
        }
    }

    /**
     * Runs {@link PairedOverhead} in {@code forks} forks and prints, per case, Baton's throughput relative to
     * HikariCP's: the ratio of the two sides' time in each iteration, its mean over all iterations of all forks with
     * the 99.9 % error, and each fork's mean.
     */
    private static void paired(PrintStream out, CommandLineOptions cmd, Target target, int forks)
            throws org.openjdk.jmh.runner.RunnerException {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .forks(cmd.getForkCount().orElse(forks))
                .warmupIterations(cmd.getWarmupIterations().orElse(WARMUP_ITERATIONS))
                .warmupTime(cmd.getWarmupTime().orElse(ITERATION_TIME))
                .measurementIterations(cmd.getMeasurementIterations().orElse(ITERATIONS))
                .measurementTime(cmd.getMeasurementTime().orElse(ITERATION_TIME))
                .verbosity(cmd.verbosity().orElse(VerboseMode.SILENT));
        String methods = cmd.getIncludes().isEmpty() ? "" : ".*(" + String.join("|", cmd.getIncludes()) + ")";
        b.include(PairedOverhead.class.getName() + methods);
        List<String> jvmArgs = new ArrayList<>(cmd.getJvmArgsAppend().orElse(List.of()));
        jvmArgs.addAll(target.jvmArgs());
        b.jvmArgsAppend(jvmArgs.toArray(String[]::new));
        out.println("paired (PairedOverhead: each invocation runs one operation per side in random order, in the same"
                + " fork; Baton's throughput relative to HikariCP's = HikariCP's time / Baton's time per iteration)");
        out.printf("%-18s %8s %22s   %s%n", "case", "ratio", "99.9 % interval", "per fork");
        for (RunResult r : new Runner(b.build()).run()) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            org.openjdk.jmh.util.ListStatistics all = new org.openjdk.jmh.util.ListStatistics();
            List<String> perFork = new ArrayList<>();
            for (org.openjdk.jmh.results.BenchmarkResult fork : r.getBenchmarkResults()) {
                org.openjdk.jmh.util.ListStatistics one = new org.openjdk.jmh.util.ListStatistics();
                for (org.openjdk.jmh.results.IterationResult it : fork.getIterationResults()) {
                    double hikari = it.getSecondaryResults()
                            .get(PairedOverhead.HIKARI_NANOS)
                            .getScore();
                    double baton = it.getSecondaryResults()
                            .get(PairedOverhead.BATON_NANOS)
                            .getScore();
                    all.addValue(hikari / baton);
                    one.addValue(hikari / baton);
                }
                perFork.add(String.format("%.4f", one.getMean()));
            }
            double error = all.getMeanErrorAt(0.999);
            out.printf(
                    "%-18s %8.4f %22s   %s%n",
                    method,
                    all.getMean(),
                    String.format("[%.4f, %.4f]", all.getMean() - error, all.getMean() + error),
                    String.join(" ", perFork));
            out.flush();
        }
    }

    /** Removes {@code --rounds N} from {@code args}, which JMH would not accept, and returns N. */
    private static int takeRounds(List<String> args) {
        int i = args.indexOf("--rounds");
        if (i < 0) {
            return ROUNDS;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException("--rounds: needs a number");
        }
        int rounds = Integer.parseInt(args.get(i + 1));
        if (rounds < 1 || rounds > 50) {
            throw new IllegalArgumentException("--rounds: " + rounds + " is out of range (1-50)");
        }
        args.subList(i, i + 2).clear();
        return rounds;
    }

    /** JMH's options from the command line for one fork of {@code pool}, with defaults where none is given. */
    private static org.openjdk.jmh.runner.options.Options options(CommandLineOptions cmd, Target target, String pool) {
        ChainedOptionsBuilder b = new OptionsBuilder().parent(cmd).param("pool", pool);
        if (cmd.getIncludes().isEmpty()) {
            b.include(WrapperOverhead.class.getName());
        }
        b.exclude(PairedOverhead.class.getName()); // run apart, by paired()
        if (!cmd.getForkCount().hasValue()) {
            b.forks(1);
        }
        if (!cmd.getWarmupIterations().hasValue()) {
            b.warmupIterations(WARMUP_ITERATIONS);
        }
        if (!cmd.getWarmupTime().hasValue()) {
            b.warmupTime(ITERATION_TIME);
        }
        if (!cmd.getMeasurementIterations().hasValue()) {
            b.measurementIterations(ITERATIONS);
        }
        if (!cmd.getMeasurementTime().hasValue()) {
            b.measurementTime(ITERATION_TIME);
        }
        b.addProfiler(CpuProfiler.class);
        if (!cmd.verbosity().hasValue()) {
            b.verbosity(VerboseMode.SILENT);
        }
        List<String> jvmArgs = new ArrayList<>(cmd.getJvmArgsAppend().orElse(List.of()));
        jvmArgs.addAll(target.jvmArgs());
        b.jvmArgsAppend(jvmArgs.toArray(String[]::new));
        return b.build();
    }

    /** The primary record the orchestrator would publish for the sandbox's primary, epoch 1. */
    private static void publish(String zookeeper, PgNode primary) throws Exception {
        try (CuratorFramework admin = RegistryClient.start(
                zookeeper, RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3))) {
            if (!admin.blockUntilConnected(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no connection to the embedded ZooKeeper " + zookeeper);
            }
            PrimaryRecord record = new PrimaryRecord(
                    CLUSTER, primary.id(), primary.host(), primary.port(), "postgresql", 1, Instant.now());
            admin.create()
                    .creatingParentContainersIfNeeded()
                    .forPath(RegistryPaths.primary(CLUSTER), RegistryJson.write(record));
        }
    }

    private static final String HELP = String.join(
            "\n",
            "Usage: baton bench jmh [JMH options] [benchmark regex]",
            "",
            "The wrapper's overhead, measured with JMH in forked JVMs: read-only point SELECTs by primary key on a",
            "real PostgreSQL primary (sandbox, server defaults) through plain HikariCP and through FailoverDataSource",
            "(same pool settings, maximumPoolSize " + WrapperOverhead.POOL_SIZE + "), two cases:",
            "  borrowSelectClose  getConnection, prepareStatement, executeQuery, close (borrow per operation)",
            "  heldSelect         prepareStatement, executeQuery on a connection the thread keeps",
            "Every round runs one JMH fork per side, HikariCP and Baton in turns, so that the drift of a shared",
            "machine hits both alike. Prints a line per fork, then per case: each side's mean over all rounds'",
            "iterations with JMH's 99.9 % error, Baton / HikariCP with the range those errors allow, and the",
            "median and spread of the per-round ratios.",
            "Then PairedOverhead runs the same cases with both sides in one fork, one operation each per invocation in",
            "random order, in as many forks as rounds: the ratio of their times per iteration cancels the drift. This",
            "JVM, and the forks it starts, run on core 0 and the database on core 1.",
            "",
            "  --rounds N   rounds (default " + ROUNDS + ")",
            "Defaults of JMH's options: -f 1 (per side and round) -wi " + WARMUP_ITERATIONS + " -w " + ITERATION_TIME
                    + " -i " + ITERATIONS + " -r " + ITERATION_TIME + " -t 1 -v SILENT (about 4 minutes).",
            "Examples:",
            "  bin/baton bench jmh                                  the whole run",
            "  bin/baton bench jmh -prof gc                         with allocation per operation",
            "  bin/baton bench jmh -prof jfr heldSelect             one case, with a flight recording per fork",
            "  bin/baton bench jmh --rounds 8 -i 6                  longer, for tighter errors",
            "",
            "JMH's options:");
}
