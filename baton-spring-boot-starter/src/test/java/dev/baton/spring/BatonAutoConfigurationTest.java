package dev.baton.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.zaxxer.hikari.HikariDataSource;
import dev.baton.jdbc.FailoverDataSource;
import dev.baton.jdbc.FailoverSqlStates;
import dev.baton.registry.PrimaryRecord;
import dev.baton.registry.RegistryClient;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import dev.baton.sandbox.EmbeddedZooKeeper;
import dev.baton.sandbox.PgNode;
import dev.baton.sandbox.PostgresSandbox;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.jdbc.support.SQLErrorCodeSQLExceptionTranslator;
import org.springframework.jdbc.support.SQLErrorCodesFactory;
import org.springframework.transaction.support.TransactionTemplate;

/** The starter on a real PostgreSQL server and a real ZooKeeper, through Boot's own auto-configuration. */
class BatonAutoConfigurationTest {
    private static final String USER = "baton";
    private static final String PASSWORD = "starter-test-" + Long.toHexString(System.nanoTime());

    private static PostgresSandbox sandbox;
    private static PgNode pg;
    private static EmbeddedZooKeeper zk;
    private static CuratorFramework admin;

    @BeforeAll
    static void start() throws Exception {
        sandbox = PostgresSandbox.builder()
                .replicas(0)
                .user(USER)
                .password(PASSWORD)
                .start();
        pg = sandbox.nodes().get(0);
        zk = EmbeddedZooKeeper.start();
        admin = RegistryClient.start(
                zk.connectString(), RegistryPaths.DEFAULT_NAMESPACE, Duration.ofSeconds(10), Duration.ofSeconds(3));
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(
                        RegistryPaths.primary("orders"),
                        RegistryJson.write(new PrimaryRecord(
                                "orders", "a", "127.0.0.1", pg.port(), "postgresql", 1, Instant.now())));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (admin != null) {
                admin.close();
            }
            if (zk != null) {
                zk.close();
            }
        } finally {
            if (sandbox != null) {
                sandbox.close();
            }
        }
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        BatonDataSourceAutoConfiguration.class,
                        DataSourceAutoConfiguration.class,
                        BatonHealthAutoConfiguration.class))
                .withPropertyValues(
                        // no driver-class-name: Boot does not have to recognize jdbc:baton: at all
                        "spring.datasource.url=jdbc:baton:zk://" + zk.connectString() + "/orders?database=postgres",
                        "spring.datasource.username=" + USER,
                        "spring.datasource.password=" + PASSWORD);
    }

    @Test
    void oneFailoverDataSourceSizedByHikariPropertiesWithMetricsAndHealthClosedWithTheContext() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FailoverDataSource[] built = new FailoverDataSource[1];
        runner().withBean(MeterRegistry.class, () -> registry)
                .withPropertyValues(
                        "spring.datasource.hikari.maximum-pool-size=3",
                        "spring.datasource.hikari.minimum-idle=1",
                        "baton.hold-timeout=7s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasSingleBean(DataSource.class);
                    assertThat(context).doesNotHaveBean(HikariDataSource.class);
                    FailoverDataSource ds = context.getBean(FailoverDataSource.class);
                    built[0] = ds;
                    assertThat(new JdbcTemplate(ds).queryForObject("SELECT inet_server_port()", Integer.class))
                            .isEqualTo(pg.port());
                    assertThat(registry.get("hikaricp.connections.max")
                                    .tag("pool", "baton-orders")
                                    .gauge()
                                    .value())
                            .as("spring.datasource.hikari.maximum-pool-size sizes Baton's pool")
                            .isEqualTo(3);
                    assertThat(registry.get("baton.wrapper.epoch").gauge().value())
                            .isEqualTo(1);
                    Health health = context.getBean(BatonHealthIndicator.class).health();
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(health.getDetails())
                            .containsAllEntriesOf(Map.of("primary", "a", "epoch", 1L, "cluster", "orders"));
                });
        SQLException closed = assertThrows(SQLException.class, () -> built[0].getConnection());
        assertThat(closed.getMessage()).contains("is closed");
        assertThat(registry.getMeters())
                .as("the wrapper's meters are removed on close")
                .isEmpty();
    }

    @Test
    void backsOffForOtherUrls() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(BatonDataSourceAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres")
                .run(context -> assertThat(context).doesNotHaveBean(FailoverDataSource.class));
    }

    @Test
    void aWrongUrlFailsTheStartNamingThePart() {
        runner().withPropertyValues("spring.datasource.url=jdbc:baton:zk:///orders")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("no ZooKeeper host");
                });
    }

    @Test
    void aTransactionCaughtByAnEpochChangeSurfacesAsATransientDataAccessException() throws Exception {
        admin.create()
                .creatingParentsIfNeeded()
                .forPath(
                        RegistryPaths.primary("moving"),
                        RegistryJson.write(new PrimaryRecord(
                                "moving", "a", "127.0.0.1", pg.port(), "postgresql", 1, Instant.now())));
        runner().withPropertyValues(
                        "spring.datasource.url=jdbc:baton:zk://" + zk.connectString() + "/moving?database=postgres")
                .run(context -> {
                    FailoverDataSource ds = context.getBean(FailoverDataSource.class);
                    JdbcTemplate jdbc = new JdbcTemplate(ds);
                    TransactionTemplate tx = new TransactionTemplate(new JdbcTransactionManager(ds));
                    DataAccessException lost = assertThrows(
                            DataAccessException.class,
                            () -> tx.executeWithoutResult(status -> {
                                jdbc.queryForObject("SELECT 1", Integer.class);
                                publishMovingEpoch2();
                                await().atMost(Duration.ofSeconds(10)).until(() -> ds.newestEpochSeen() == 2);
                                jdbc.queryForObject("SELECT 2", Integer.class);
                            }));
                    assertThat(lost).isInstanceOf(TransientDataAccessException.class);
                    assertThat(lost.getMostSpecificCause()).isInstanceOf(SQLException.class);
                    assertThat(((SQLException) lost.getMostSpecificCause()).getSQLState())
                            .isEqualTo(FailoverSqlStates.TRANSACTION_LOST);
                    assertThat(jdbc.queryForObject("SELECT 3", Integer.class))
                            .as("the retry runs")
                            .isEqualTo(3);
                });
    }

    private static void publishMovingEpoch2() {
        try {
            admin.setData()
                    .forPath(
                            RegistryPaths.primary("moving"),
                            RegistryJson.write(new PrimaryRecord(
                                    "moving", "b", "127.0.0.1", pg.port(), "postgresql", 2, Instant.now())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Spring's translator for each product Baton serves: the contract's states are in no vendor's error-code table,
     * so the JDBC subclass decides (SQLStateSQLExceptionTranslator alone would map class 08 to the non-transient
     * DataAccessResourceFailureException).
     */
    @ParameterizedTest
    @ValueSource(strings = {"PostgreSQL", "MySQL", "MariaDB"})
    void springMapsEveryContractStateToATransientOrRecoverableException(String product) {
        SQLErrorCodeSQLExceptionTranslator translator = new SQLErrorCodeSQLExceptionTranslator(
                SQLErrorCodesFactory.getInstance().getErrorCodes(product));
        Map<SQLException, Class<? extends DataAccessException>> expected = Map.of(
                new SQLTransientConnectionException("never ran", FailoverSqlStates.NOT_RUN),
                TransientDataAccessResourceException.class,
                new SQLRecoverableException("outcome unknown", FailoverSqlStates.OUTCOME_UNKNOWN),
                RecoverableDataAccessException.class,
                new SQLTransactionRollbackException("lost", FailoverSqlStates.TRANSACTION_LOST),
                PessimisticLockingFailureException.class,
                new SQLTransientConnectionException("no primary", FailoverSqlStates.NO_PRIMARY),
                TransientDataAccessResourceException.class,
                new SQLNonTransientConnectionException("session lost", FailoverSqlStates.SESSION_LOST),
                DataAccessResourceFailureException.class);
        expected.forEach((e, type) -> assertThat(translator.translate("task", "SELECT 1", e))
                .as(e.getSQLState())
                .isExactlyInstanceOf(type));
        assertThat(PessimisticLockingFailureException.class).isAssignableTo(TransientDataAccessException.class);
    }
}
