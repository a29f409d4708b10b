package dev.baton.spring;

import dev.baton.jdbc.BatonDriver;
import dev.baton.jdbc.FailoverDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * With {@code spring.datasource.url=jdbc:baton:zk://HOST:PORT[,...]/CLUSTER?database=...}, the application's
 * {@link DataSource} is one {@link FailoverDataSource}, and no pool of Boot's in front of it: Boot's own
 * {@link DataSourceAutoConfiguration} runs after this one and backs off when a DataSource exists, so Baton's
 * switchover hold applies to every borrow and {@code spring.datasource.hikari.*} sizes Baton's pools.
 *
 * <ul>
 *   <li>{@code spring.datasource.username} / {@code password}: the database credentials;
 *   <li>{@code spring.datasource.hikari.*}: applied to the HikariCP pool of every primary epoch (the pool name,
 *       JDBC URL and credentials are Baton's); {@code maxPoolSize} / {@code connectionTimeoutMs} in the URL win;
 *   <li>{@code baton.*} ({@link BatonProperties}): the wrapper's timeouts and lease, over the URL's;
 *   <li>a {@link MeterRegistry} bean, when there is one: the wrapper's metrics ({@code hikaricp.*} under the pool
 *       name {@code baton-<cluster>}, {@code baton.wrapper.*});
 *   <li>closed with the application context (Spring calls {@code close()}): pools and the ZooKeeper session.
 * </ul>
 */
@AutoConfiguration(before = DataSourceAutoConfiguration.class)
@ConditionalOnClass({DataSource.class, FailoverDataSource.class})
@Conditional(OnBatonUrlCondition.class)
@EnableConfigurationProperties({DataSourceProperties.class, BatonProperties.class})
public class BatonDataSourceAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(DataSource.class)
    public FailoverDataSource dataSource(
            DataSourceProperties dataSource,
            BatonProperties baton,
            Environment environment,
            ObjectProvider<BatonDataSourceCustomizer> customizers)
            throws SQLException {
        Properties info = new Properties();
        if (dataSource.getUsername() != null) {
            info.setProperty("user", dataSource.getUsername());
        }
        if (dataSource.getPassword() != null) {
            info.setProperty("password", dataSource.getPassword());
        }
        Binder binder = Binder.get(environment);
        FailoverDataSource.Builder builder = BatonDriver.builder(
                dataSource.getUrl(), info, pool -> binder.bind("spring.datasource.hikari", Bindable.ofInstance(pool)));
        if (baton.getNamespace() != null) {
            builder.namespace(baton.getNamespace());
        }
        if (baton.getHoldTimeout() != null) {
            builder.holdTimeout(baton.getHoldTimeout());
        }
        if (baton.getInitialPrimaryTimeout() != null) {
            builder.initialPrimaryTimeout(baton.getInitialPrimaryTimeout());
        }
        if (baton.getLease() != null) {
            builder.lease(baton.getLease());
        }
        if (baton.getLeaseTimeout() != null) {
            builder.leaseTimeout(baton.getLeaseTimeout());
        }
        customizers.orderedStream().forEach(c -> c.customize(builder));
        return builder.build();
    }

    /** Micrometer only when it is on the class path: the wrapper reports to the application's registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {
        @Bean
        BatonDataSourceCustomizer batonMeterRegistry(ObjectProvider<MeterRegistry> registry) {
            return builder -> registry.ifAvailable(builder::meterRegistry);
        }
    }
}
