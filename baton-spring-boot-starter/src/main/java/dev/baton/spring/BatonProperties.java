package dev.baton.spring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code baton.*}: the wrapper's own settings, when they are not in the {@code jdbc:baton:} URL. Unset values leave
 * the URL's (or the wrapper's default) in place. Pool settings come from {@code spring.datasource.hikari.*}.
 */
@ConfigurationProperties("baton")
public class BatonProperties {
    /** ZooKeeper namespace, default {@code baton}. */
    private String namespace;
    /** How long a borrow or a kept connection's next transaction waits during a switchover hold (default 10 s). */
    private Duration holdTimeout;
    /** How long a borrow waits for the first primary record (default 10 s). */
    private Duration initialPrimaryTimeout;
    /** Partition safety: refuse and abort connections after {@code lease-timeout} without ZooKeeper (default true). */
    private Boolean lease;
    /** How long the last known primary is used without an answer from ZooKeeper (default 2 s). */
    private Duration leaseTimeout;

    public String getNamespace() {
        return namespace;
    }

    public void setNamespace(String namespace) {
        this.namespace = namespace;
    }

    public Duration getHoldTimeout() {
        return holdTimeout;
    }

    public void setHoldTimeout(Duration holdTimeout) {
        this.holdTimeout = holdTimeout;
    }

    public Duration getInitialPrimaryTimeout() {
        return initialPrimaryTimeout;
    }

    public void setInitialPrimaryTimeout(Duration initialPrimaryTimeout) {
        this.initialPrimaryTimeout = initialPrimaryTimeout;
    }

    public Boolean getLease() {
        return lease;
    }

    public void setLease(Boolean lease) {
        this.lease = lease;
    }

    public Duration getLeaseTimeout() {
        return leaseTimeout;
    }

    public void setLeaseTimeout(Duration leaseTimeout) {
        this.leaseTimeout = leaseTimeout;
    }
}
