package dev.baton.jdbc;

import dev.baton.registry.RegistryPaths;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * A parsed {@code jdbc:baton:zk://HOST:PORT[,HOST:PORT...]/CLUSTER[?key=value&...]} URL.
 *
 * <p>Baton's own keys (from the query or the connect properties; the query wins): {@code namespace},
 * {@code database}, {@code holdTimeoutMs}, {@code initialPrimaryTimeoutMs}, {@code maxPoolSize},
 * {@code connectionTimeoutMs}, {@code lease}, {@code leaseTimeoutMs}, {@code resolveCommitOutcome},
 * {@code retryNotCommitted}, {@code readRouting}, {@code routeReadOnly} (flags: {@code true}/{@code false}), {@code maxReplicaLagBytes},
 * {@code maxReplicaLagMs}, {@code replicaBalance} ({@code round-robin}/{@code least-lag}). {@code user} and
 * {@code password} are the database credentials. Every other key is passed to the underlying driver.
 */
record BatonUrl(String zookeeper, String cluster, Map<String, String> params) {
    static final String PREFIX = "jdbc:baton:";
    private static final String ZK_PREFIX = PREFIX + "zk://";

    /** HikariCP refuses a shorter {@code connectionTimeout}. */
    private static final long CONNECTION_TIMEOUT_FLOOR_MS = 250;

    private static final String ENCODING_RULE = " (a '%' must be followed by two hex digits; write '%' itself as %25)";

    static final Set<String> BATON_KEYS = Set.of(
            "namespace",
            "database",
            "holdTimeoutMs",
            "initialPrimaryTimeoutMs",
            "maxPoolSize",
            "connectionTimeoutMs",
            "lease",
            "leaseTimeoutMs",
            "resolveCommitOutcome",
            "retryNotCommitted",
            "readRouting",
            "routeReadOnly",
            "maxReplicaLagBytes",
            "maxReplicaLagMs",
            "replicaBalance");

    static boolean accepts(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    /**
     * Parses {@code url} merged over {@code info}. Errors name the wrong part and the rule; they show the URL only
     * up to its query and never a parameter's value (any of them may be a secret).
     */
    static BatonUrl parse(String url, Properties info) throws SQLException {
        if (!url.startsWith(ZK_PREFIX)) {
            throw malformed(url, "it must start with " + ZK_PREFIX + " (jdbc:baton:zk://HOST:PORT[,...]/CLUSTER)");
        }
        String rest = url.substring(ZK_PREFIX.length());
        int query = rest.indexOf('?');
        String path = query < 0 ? rest : rest.substring(0, query);
        int slash = path.indexOf('/');
        if (slash < 0) {
            throw malformed(url, "the cluster is missing after the ZooKeeper hosts (.../CLUSTER)");
        }
        String hosts = path.substring(0, slash);
        String cluster = path.substring(slash + 1);
        if (hosts.isEmpty()) {
            throw malformed(url, "no ZooKeeper host before '/" + cluster + "'");
        }
        for (String host : hosts.split(",", -1)) {
            checkHost(url, host);
        }
        if (!RegistryPaths.isValidName(cluster)) {
            throw malformed(
                    url, "cluster '" + cluster + "' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
        }
        Map<String, String> params = new TreeMap<>();
        if (info != null) {
            for (String key : info.stringPropertyNames()) {
                params.put(key, info.getProperty(key));
            }
        }
        if (query >= 0 && query + 1 < rest.length()) {
            int position = 0;
            for (String pair : rest.substring(query + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                position++;
                int eq = pair.indexOf('=');
                String key = decodeName(url, eq < 0 ? pair : pair.substring(0, eq), position);
                if (key.isEmpty()) {
                    throw malformed(url, "query parameter " + position + " has no name");
                }
                String value = eq < 0 ? "" : decodeValue(url, key, pair.substring(eq + 1));
                params.put(key, value);
            }
        }
        BatonUrl parsed = new BatonUrl(hosts, cluster, params);
        parsed.checkValues(url);
        return parsed;
    }

    private static void checkHost(String url, String host) throws SQLException {
        int colon = host.lastIndexOf(':');
        if (host.isEmpty() || colon <= 0 || colon == host.length() - 1) {
            throw malformed(url, "ZooKeeper host '" + host + "' is not HOST:PORT");
        }
        String port = host.substring(colon + 1);
        int value;
        try {
            value = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw malformed(url, "port '" + port + "' of ZooKeeper host '" + host + "' is not a number");
        }
        if (value < 1 || value > 65535) {
            throw malformed(url, "port '" + port + "' of ZooKeeper host '" + host + "' is not a TCP port (1-65535)");
        }
    }

    private void checkValues(String url) throws SQLException {
        checkRange(url, "holdTimeoutMs", 1);
        checkRange(url, "initialPrimaryTimeoutMs", 1);
        checkRange(url, "maxPoolSize", 1);
        checkRange(url, "connectionTimeoutMs", CONNECTION_TIMEOUT_FLOOR_MS);
        checkRange(url, "leaseTimeoutMs", FailoverConfig.MIN_LEASE_TIMEOUT.toMillis());
        checkFlag(url, "lease");
        checkFlag(url, "resolveCommitOutcome");
        checkFlag(url, "retryNotCommitted");
        checkFlag(url, "readRouting");
        checkFlag(url, "routeReadOnly");
        checkRange(url, "maxReplicaLagBytes", 0);
        checkRange(url, "maxReplicaLagMs", 0);
        String balance = params.get("replicaBalance");
        if (balance != null && replicaBalance() == null) {
            throw malformed(url, "parameter 'replicaBalance' must be round-robin or least-lag");
        }
        String namespace = params.get("namespace");
        if (namespace != null && !namespace.isBlank() && !RegistryPaths.isValidName(namespace)) {
            throw malformed(url, "parameter 'namespace' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
        }
    }

    private void checkFlag(String url, String key) throws SQLException {
        String value = params.get(key);
        if (value != null
                && !value.trim().equalsIgnoreCase("true")
                && !value.trim().equalsIgnoreCase("false")) {
            throw malformed(url, "parameter '" + key + "' must be true or false");
        }
    }

    private void checkRange(String url, String key, long min) throws SQLException {
        String value = params.get(key);
        if (value == null) {
            return;
        }
        long parsed;
        try {
            parsed = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw malformed(url, "parameter '" + key + "' is not a whole number");
        }
        if (parsed < min || parsed > Integer.MAX_VALUE) {
            throw malformed(url, "parameter '" + key + "' must be between " + min + " and " + Integer.MAX_VALUE);
        }
    }

    private static String decodeName(String url, String s, int position) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw malformed(
                    url, "the name of query parameter " + position + " is not URL-encoded correctly" + ENCODING_RULE);
        }
    }

    private static String decodeValue(String url, String key, String s) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw malformed(url, "parameter '" + key + "' is not URL-encoded correctly" + ENCODING_RULE);
        }
    }

    /** {@code replicaBalance}: round-robin (the default) or least-lag; null when the value is neither. */
    ReplicaBalance replicaBalance() {
        String value = params.getOrDefault("replicaBalance", "round-robin").trim();
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "round-robin" -> ReplicaBalance.ROUND_ROBIN;
            case "least-lag" -> ReplicaBalance.LEAST_LAG;
            default -> null;
        };
    }

    String get(String key) {
        return params.get(key);
    }

    boolean flag(String key, boolean fallback) {
        String value = params.get(key);
        return value == null ? fallback : Boolean.parseBoolean(value.trim());
    }

    Duration millis(String key, Duration fallback) {
        String value = params.get(key);
        return value == null ? fallback : Duration.ofMillis(Long.parseLong(value.trim()));
    }

    /** Everything that is neither Baton's own key nor a credential: the underlying driver's properties. */
    Properties driverProperties() {
        Properties props = new Properties();
        params.forEach((k, v) -> {
            if (!BATON_KEYS.contains(k) && !k.equals("user") && !k.equals("password")) {
                props.setProperty(k, v);
            }
        });
        return props;
    }

    /**
     * The URL for messages and logs: up to its query, which is shown as {@code ?...} because any parameter's value
     * may be a secret (password, sslpassword, a key).
     */
    static String withoutQuery(String url) {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query) + "?...";
    }

    private static SQLException malformed(String url, String problem) {
        return new SQLException("malformed Baton URL '" + withoutQuery(url) + "': " + problem, "08001");
    }

    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>(params);
        shown.replaceAll((k, v) -> k.toLowerCase(Locale.ROOT).contains("password") ? "****" : v);
        return "BatonUrl[zookeeper=" + zookeeper + ", cluster=" + cluster + ", params=" + shown + "]";
    }
}
