package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.baton.bench.FailoverScenario;
import dev.baton.jdbc.FailoverDataSource;
import dev.baton.jdbc.FailoverSqlStates;
import dev.baton.orchestrator.cli.BatonCli;
import dev.baton.registry.PrimaryRecord;
import dev.baton.sandbox.SandboxNode;
import dev.baton.spring.BatonHealthIndicator;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import picocli.CommandLine;

/**
 * The sample application, configured only through application properties, on a real PostgreSQL cluster with
 * ZooKeeper and the orchestrator running: 8 threads of {@code @Transactional} orders, autocommit writes and reads
 * through a planned switchover (no error may reach the application) and a crash of the primary (kill -9: the
 * errors Spring surfaces are transient or recoverable, each with a contract SQLState underneath).
 */
class SampleFailoverTest {
    private static final Logger LOG = LoggerFactory.getLogger(SampleFailoverTest.class);
    private static final Set<String> CONTRACT = Set.of(
            FailoverSqlStates.NOT_RUN,
            FailoverSqlStates.OUTCOME_UNKNOWN,
            FailoverSqlStates.TRANSACTION_LOST,
            FailoverSqlStates.NO_PRIMARY);

    private record Failure(String phase, RuntimeException exception) {}

    private volatile String phase = "steady";
    private volatile boolean running = true;
    private final AtomicLong succeeded = new AtomicLong();
    private final Queue<Failure> failures = new ConcurrentLinkedQueue<>();

    @Test
    void transactionalServicesSeeNoErrorInASwitchoverAndOnlyTransientOrRecoverableOnesInAFailover() throws Exception {
        try (FailoverScenario scenario = FailoverScenario.prepare("postgresql", step -> {})) {
            PrimaryRecord first = scenario.startOrchestratorAndApplication(e -> {}, Duration.ofSeconds(30));
            // command-line arguments: they win over the sample's application.properties, as they would in production
            ConfigurableApplicationContext app = new SpringApplicationBuilder(SampleApplication.class)
                    .run(
                            "--spring.datasource.url=jdbc:baton:zk://"
                                    + scenario.zooKeeper().connectString() + "/" + FailoverScenario.CLUSTER
                                    + "?database=" + scenario.cluster().database(),
                            "--spring.datasource.username=" + scenario.cluster().user(),
                            "--spring.datasource.password=" + scenario.cluster().password(),
                            "--spring.main.banner-mode=off");
            FailoverDataSource dataSource = app.getBean(FailoverDataSource.class);
            List<Thread> threads = new ArrayList<>();
            try {
                OrderService orders = app.getBean(OrderService.class);
                AtomicLong ids = new AtomicLong();
                for (int i = 0; i < 8; i++) {
                    int kind = i;
                    Thread t = new Thread(() -> load(orders, ids, kind), "load-" + i);
                    t.start();
                    threads.add(t);
                }
                awaitSucceeded(200);

                phase = "switchover";
                SandboxNode target = scenario.cluster().nodes().stream()
                        .filter(n -> !n.id().equals(first.nodeId()))
                        .findFirst()
                        .orElseThrow();
                String output = switchover(scenario, target.id());
                await().atMost(Duration.ofSeconds(10)).until(() -> dataSource.newestEpochSeen() == first.epoch() + 1);
                awaitSucceeded(200);
                assertThat(failures).as("errors in the switchover: %s", output).isEmpty();

                phase = "failover";
                long killedAt = System.nanoTime();
                scenario.node(target.id()).kill();
                await().atMost(Duration.ofSeconds(30)).until(() -> dataSource.newestEpochSeen() == first.epoch() + 2);
                LOG.info("new primary after {} ms", (System.nanoTime() - killedAt) / 1_000_000);
                awaitSucceeded(200);
            } finally {
                running = false;
                for (Thread t : threads) {
                    t.join(30_000);
                }
            }
            Map<String, Integer> kinds = new TreeMap<>();
            for (Failure f : failures) {
                kinds.merge(
                        f.phase() + " " + f.exception().getClass().getSimpleName() + " " + sqlState(f),
                        1,
                        Integer::sum);
            }
            LOG.info("failures by phase, Spring exception and SQLState: {}", kinds);
            assertThat(failures).allSatisfy(f -> {
                assertThat(f.phase()).isEqualTo("failover");
                assertThat(f.exception())
                        .isInstanceOfAny(TransientDataAccessException.class, RecoverableDataAccessException.class);
                assertThat(sqlState(f)).isIn(CONTRACT);
            });

            OrderService orders = app.getBean(OrderService.class);
            assertThat(orders.incompleteOrders())
                    .as("orders committed without their line")
                    .isZero();
            PrimaryRecord now = dataSource.currentPrimary().orElseThrow();
            Health health = app.getBean(BatonHealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails())
                    .containsEntry("primary", now.nodeId())
                    .containsEntry("epoch", now.epoch());
            MeterRegistry metrics = app.getBean(MeterRegistry.class);
            assertThat(metrics.get("baton.wrapper.epoch.changes").counter().count())
                    .isEqualTo(2);
            assertThat(metrics.get("hikaricp.connections.acquire")
                            .tag("pool", "baton-" + FailoverScenario.CLUSTER)
                            .timer()
                            .count())
                    .isPositive();

            app.close();
            SQLException closed = assertThrows(SQLException.class, dataSource::getConnection);
            assertThat(closed.getMessage()).contains("is closed");
        }
    }

    /** Kinds 0-3: @Transactional orders; 4-5: autocommit writes; 6-7: read-only transactions. */
    private void load(OrderService orders, AtomicLong ids, int kind) {
        while (running) {
            try {
                if (kind < 4) {
                    orders.placeOrder(ids.incrementAndGet(), 1 + kind);
                } else if (kind < 6) {
                    orders.recordVisit(ids.incrementAndGet());
                } else {
                    orders.orders();
                }
                succeeded.incrementAndGet();
            } catch (RuntimeException e) {
                failures.add(new Failure(phase, e));
                LOG.info("{} failed in the {}: {}", kind, phase, e.toString());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitSucceeded(long more) {
        long target = succeeded.get() + more;
        await().atMost(Duration.ofSeconds(30)).until(() -> succeeded.get() >= target);
    }

    private static String switchover(FailoverScenario scenario, String to) {
        StringWriter text = new StringWriter();
        CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(new PrintWriter(text, true));
        cli.setErr(new PrintWriter(text, true));
        int exit = BatonCli.execute(
                cli,
                new String[] {"switchover", "--config", scenario.configFile().toString(), "--yes", "--to", to});
        assertThat(exit).as(text.toString()).isZero();
        return text.toString();
    }

    /** The SQLState of the first SQLException under Spring's exception: Baton's, the driver's is its cause. */
    private static String sqlState(Failure f) {
        String state = null;
        for (Throwable t = f.exception(); t != null; t = t.getCause()) {
            if (t instanceof SQLException e) {
                state = e.getSQLState();
                break;
            }
        }
        return state;
    }
}
