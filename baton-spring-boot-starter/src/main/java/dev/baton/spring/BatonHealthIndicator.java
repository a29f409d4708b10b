package dev.baton.spring;

import dev.baton.jdbc.FailoverDataSource;
import dev.baton.registry.PrimaryRecord;
import java.util.Optional;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/**
 * {@code /actuator/health/baton}: UP with the primary new connections go to (node, address, dialect) and its epoch,
 * DOWN while no primary record has been seen. Reads what the wrapper already knows: no database or ZooKeeper call.
 */
public class BatonHealthIndicator extends AbstractHealthIndicator {
    private final FailoverDataSource dataSource;

    public BatonHealthIndicator(FailoverDataSource dataSource) {
        super("Baton health check failed");
        this.dataSource = dataSource;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Optional<PrimaryRecord> primary = dataSource.currentPrimary();
        if (primary.isEmpty()) {
            builder.down().withDetail("primary", "none seen yet").withDetail("epoch", dataSource.newestEpochSeen());
            return;
        }
        PrimaryRecord p = primary.get();
        builder.up()
                .withDetail("cluster", p.cluster())
                .withDetail("primary", p.nodeId())
                .withDetail("address", p.address())
                .withDetail("dialect", p.dialect())
                .withDetail("epoch", p.epoch())
                .withDetail("promotedAt", String.valueOf(p.promotedAt()));
    }
}
