package dev.baton.spring;

import dev.baton.jdbc.FailoverDataSource;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/** With Actuator on the class path: a {@code baton} health component showing the primary and its epoch. */
@AutoConfiguration(after = BatonDataSourceAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(FailoverDataSource.class)
public class BatonHealthAutoConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = "batonHealthIndicator")
    public BatonHealthIndicator batonHealthIndicator(FailoverDataSource dataSource) {
        return new BatonHealthIndicator(dataSource);
    }
}
