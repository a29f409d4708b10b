package dev.baton.spring;

import dev.baton.jdbc.FailoverDataSource;

/** Changes the builder of the auto-configured {@link FailoverDataSource} before it is built; beans of this type. */
@FunctionalInterface
public interface BatonDataSourceCustomizer {
    void customize(FailoverDataSource.Builder builder);
}
