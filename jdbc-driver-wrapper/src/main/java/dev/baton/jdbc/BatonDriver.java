package dev.baton.jdbc;

import com.zaxxer.hikari.HikariConfig;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The {@code jdbc:baton:} driver: lets an application follow Baton's published primary by changing only its
 * JDBC URL, for example {@code jdbc:baton:zk://zk1:2181,zk2:2181/orders?database=shop}.
 *
 * <p>One {@link FailoverDataSource} is created per distinct (URL, properties) and kept until {@link
 * #closeAll()}; {@link #connect} borrows a pooled connection from it, and closing that connection returns it
 * to the pool. A data source whose first borrow fails is closed and forgotten at once. See {@link BatonUrl}
 * for the keys Baton reads itself; every other key goes to the underlying driver (pgjdbc or MySQL
 * Connector/J), which must be on the class path.
 */
public final class BatonDriver implements Driver {
    private static final BatonDriver INSTANCE = new BatonDriver();

    static {
        try {
            DriverManager.registerDriver(INSTANCE);
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Map<Key, FailoverDataSource> dataSources = new ConcurrentHashMap<>();

    /** For {@link java.util.ServiceLoader}; the registered instance is the one created by the class itself. */
    public BatonDriver() {}

    @Override
    public boolean acceptsURL(String url) {
        return BatonUrl.accepts(url);
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        // the registered instance holds the cache, whichever instance DriverManager or a pool calls
        return INSTANCE.borrow(url, info == null ? new Properties() : info);
    }

    /**
     * Borrows from the cached data source of (url, info), creating it first. A data source that has never handed
     * out a connection and fails is closed and evicted, so that a URL that does not work (a wrong password, a
     * cluster nobody publishes) leaves no ZooKeeper session or pool threads behind; the next connect builds it
     * again.
     */
    private Connection borrow(String url, Properties info) throws SQLException {
        Key key = new Key(url, info);
        for (int attempt = 0; ; attempt++) {
            FailoverDataSource ds = dataSources.get(key);
            if (ds == null) {
                BatonUrl parsed = BatonUrl.parse(url, info);
                try {
                    ds = dataSources.computeIfAbsent(key, k -> create(parsed));
                } catch (IllegalArgumentException e) {
                    // parse() checked every value from a parameter: this names a path part or a rule
                    throw new SQLException(
                            "Baton URL '" + BatonUrl.withoutQuery(url) + "': " + e.getMessage(), "08001", e);
                }
            }
            try {
                return ds.getConnection();
            } catch (SQLException e) {
                if (ds.isClosed() && attempt == 0 && dataSources.get(key) != ds) {
                    continue; // another thread evicted it while we borrowed: borrow from a new one
                }
                if (!ds.hasHandedOutConnection() && dataSources.remove(key, ds)) {
                    ds.close();
                }
                throw e;
            }
        }
    }

    private static FailoverDataSource create(BatonUrl url) {
        return builder(url, c -> {}).build();
    }

    /**
     * A builder set up from a {@code jdbc:baton:} URL and its connect properties ({@code user}, {@code password}, the
     * keys of {@link BatonUrl}), for frameworks that configure a {@link FailoverDataSource} from a URL (the Spring
     * Boot starter). {@code poolSettings} are applied to every pool before the URL's {@code maxPoolSize} and
     * {@code connectionTimeoutMs}. Errors name the wrong part of the URL, never a value.
     */
    public static FailoverDataSource.Builder builder(String url, Properties info, Consumer<HikariConfig> poolSettings)
            throws SQLException {
        BatonUrl parsed = BatonUrl.parse(url, info == null ? new Properties() : info);
        try {
            return builder(parsed, poolSettings);
        } catch (IllegalArgumentException e) {
            throw new SQLException("Baton URL '" + BatonUrl.withoutQuery(url) + "': " + e.getMessage(), "08001", e);
        }
    }

    private static FailoverDataSource.Builder builder(BatonUrl url, Consumer<HikariConfig> poolSettings) {
        FailoverDataSource.Builder builder = FailoverDataSource.builder()
                .zookeeper(url.zookeeper())
                .cluster(url.cluster())
                .user(url.get("user"))
                .password(url.get("password"))
                .database(url.get("database"))
                .properties(url.driverProperties())
                .initialPrimaryTimeout(url.millis("initialPrimaryTimeoutMs", Duration.ofSeconds(10)))
                .holdTimeout(url.millis("holdTimeoutMs", Duration.ofSeconds(10)))
                .lease(url.flag("lease", true))
                .leaseTimeout(url.millis("leaseTimeoutMs", FailoverConfig.DEFAULT_LEASE_TIMEOUT))
                .resolveCommitOutcome(url.flag("resolveCommitOutcome", false))
                .retryNotCommitted(url.flag("retryNotCommitted", false))
                .readOnly(url.flag("readRouting", false))
                .routeReadOnlyConnections(url.flag("routeReadOnly", false))
                .replicaBalance(url.replicaBalance());
        if (url.get("maxReplicaLagBytes") != null || url.get("maxReplicaLagMs") != null) {
            builder.maxReplicaLag(
                    url.get("maxReplicaLagBytes") == null
                            ? ReadRouting.DEFAULT_MAX_LAG_BYTES
                            : Long.parseLong(url.get("maxReplicaLagBytes").trim()),
                    url.millis("maxReplicaLagMs", ReadRouting.DEFAULT_MAX_LAG));
        }
        if (url.get("namespace") != null) {
            builder.namespace(url.get("namespace"));
        }
        String maxPoolSize = url.get("maxPoolSize");
        String connectionTimeout = url.get("connectionTimeoutMs");
        builder.hikari(c -> {
            poolSettings.accept(c);
            if (maxPoolSize != null) {
                c.setMaximumPoolSize(Integer.parseInt(maxPoolSize.trim()));
            }
            if (connectionTimeout != null) {
                c.setConnectionTimeout(Long.parseLong(connectionTimeout.trim()));
            }
        });
        return builder;
    }

    /** Closes every data source the registered driver created; later connects create new ones. */
    public static void closeAll() {
        INSTANCE.closeDataSources();
    }

    /** How many data sources the registered driver holds, for tests. */
    static int cachedDataSources() {
        return INSTANCE.dataSources.size();
    }

    /** The data sources the registered driver holds, for tests. */
    static java.util.Collection<FailoverDataSource> cached() {
        return java.util.List.copyOf(INSTANCE.dataSources.values());
    }

    private void closeDataSources() {
        for (Key key : dataSources.keySet()) {
            FailoverDataSource ds = dataSources.remove(key);
            if (ds != null) {
                ds.close();
            }
        }
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        String[][] keys = {
            {"user", "database user"},
            {"password", "database password"},
            {"namespace", "ZooKeeper namespace, default baton"},
            {"database", "database name on every primary"},
            {"holdTimeoutMs", "how long a borrow waits during a switchover hold, default 10000"},
            {"initialPrimaryTimeoutMs", "how long a borrow waits for the first primary record, default 10000"},
            {"maxPoolSize", "HikariCP maximumPoolSize, default 10"},
            {"connectionTimeoutMs", "HikariCP connectionTimeout, default 30000"},
            {"lease", "refuse and abort connections after leaseTimeoutMs without ZooKeeper, default true"},
            {"leaseTimeoutMs", "how long the last known primary is used without ZooKeeper, default 2000"},
            {"resolveCommitOutcome", "find out whether a commit whose acknowledgment was lost committed, default false"
            },
            {"retryNotCommitted", "with resolveCommitOutcome: run an autocommit write found not committed again"},
            {"readRouting", "read-only connections to a replica under the lag limits, else the primary, default false"},
            {"maxReplicaLagBytes", "read routing: skip a replica lagging more (WAL bytes, transactions), default 16 MiB"
            },
            {"maxReplicaLagMs", "read routing: skip a replica lagging more, default 10000"},
            {"routeReadOnly", "read routing for connections made read-only with setReadOnly(true), default false"},
            {"replicaBalance", "read routing: round-robin (default) or least-lag"},
        };
        DriverPropertyInfo[] result = new DriverPropertyInfo[keys.length];
        for (int i = 0; i < keys.length; i++) {
            result[i] = new DriverPropertyInfo(keys[i][0], info == null ? null : info.getProperty(keys[i][0]));
            result[i].description = keys[i][1];
        }
        return result;
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("BatonDriver logs through SLF4J");
    }

    /** Cache key: the URL and the connect properties, sorted. Holds the password in memory, never printed. */
    private static final class Key {
        private final String url;
        private final Map<String, String> properties = new TreeMap<>();

        Key(String url, Properties info) {
            this.url = url;
            for (String name : info.stringPropertyNames()) {
                properties.put(name, info.getProperty(name));
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && ((Key) o).url.equals(url) && ((Key) o).properties.equals(properties);
        }

        @Override
        public int hashCode() {
            return Objects.hash(url, properties);
        }

        @Override
        public String toString() {
            return BatonUrl.withoutQuery(url);
        }
    }
}
