package dev.baton.orchestrator.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.baton.registry.RegistryPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and validates the YAML configuration once, at start. Every error names the key path, the offending
 * value (never a password) and the rule. Unknown keys are errors: a typo must not silently fall back to a
 * default. {@code ${NAME}} in a value is replaced by the environment variable NAME.
 */
public final class ConfigLoader {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)?");
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[+-]?\\d+");

    private final Function<String, String> environment;

    public ConfigLoader(Function<String, String> environment) {
        this.environment = environment;
    }

    public static BatonConfig load(Path file) {
        return new ConfigLoader(System::getenv).read(file);
    }

    /** Reads at most 1 MiB of UTF-8 text from {@code file}; see {@link ConfigFile}. */
    public BatonConfig read(Path file) {
        return parse(ConfigFile.read(file), file.toString());
    }

    public BatonConfig parse(String yaml, String source) {
        JsonNode root = ConfigYaml.parse(yaml, source);
        if (root == null || !root.isObject()) {
            throw new ConfigException(source + ": must be a YAML mapping with 'zookeeper' and 'clusters'");
        }
        Section top = new Section("", root);
        ZooKeeperConfig zookeeper = zooKeeper(top.section("zookeeper", true));
        String orchestratorId = top.string("orchestratorId", null, false);
        if (orchestratorId != null && !RegistryPaths.isValidName(orchestratorId)) {
            throw new ConfigException(
                    "orchestratorId: '" + orchestratorId + "' is not a valid name (A-Z a-z 0-9 _ . -)");
        }

        List<ClusterConfig> clusters = new ArrayList<>();
        List<Section> clusterSections = top.list("clusters");
        if (clusterSections.isEmpty()) {
            throw new ConfigException("clusters: at least one cluster is required");
        }
        Set<String> clusterNames = new HashSet<>();
        for (Section c : clusterSections) {
            ClusterConfig cluster = cluster(c);
            if (!clusterNames.add(cluster.name())) {
                throw new ConfigException(c.path("name") + ": '" + cluster.name() + "' is used by another cluster");
            }
            clusters.add(cluster);
        }
        boolean httpOn = top.has("http"); // an empty or absent section leaves the API off
        Section httpSection = top.section("http", false);
        HttpConfig http = httpOn ? http(httpSection) : null;
        top.finish();
        return new BatonConfig(zookeeper, orchestratorId, clusters, http);
    }

    /** The {@code zookeeper} section, shared by the orchestrator's and the agent's configuration. */
    static ZooKeeperConfig zooKeeper(Section zk) {
        ZooKeeperConfig zookeeper = new ZooKeeperConfig(
                zk.string("connect", null, true),
                zk.name("namespace", RegistryPaths.DEFAULT_NAMESPACE),
                zk.duration("sessionTimeout", Duration.ofSeconds(6), Duration.ofSeconds(2), Duration.ofMinutes(5)),
                zk.duration("connectionTimeout", Duration.ofSeconds(3), Duration.ofMillis(500), Duration.ofMinutes(1)),
                zk.has("digest") ? zk.secret("digest") : null,
                zooKeeperClientProperties(zk));
        if (zookeeper.digest() != null
                && (zookeeper.digest().indexOf(':') < 1 || zookeeper.digest().endsWith(":"))) {
            throw new ConfigException("zookeeper.digest: must be user:password");
        }
        zk.finish();
        return zookeeper;
    }

    /** The top-level section of a parsed document, for another component's loader in this package. */
    Section root(JsonNode node) {
        return new Section("", node);
    }

    private static HttpConfig http(Section h) {
        String address = h.string("address", HttpConfig.DEFAULT_ADDRESS, false);
        if (address.isEmpty()) {
            throw new ConfigException(h.path("address") + ": must not be empty (default " + HttpConfig.DEFAULT_ADDRESS
                    + "; 0.0.0.0 for every interface)");
        }
        int port = h.integer("port", null, 0, 65535);
        String token = h.has("token") ? h.secret("token") : null;
        if (token != null && token.strip().length() < 16) {
            throw new ConfigException(h.path("token") + ": must be at least 16 characters (the value is not shown)");
        }
        Section tls = h.section("tls", false);
        String keystore = tls.string("keystore", null, false);
        String password = tls.has("password") ? tls.secret("password") : "";
        if (keystore == null && tls.has("password")) {
            throw new ConfigException(tls.path("keystore") + ": is required when " + tls.path("password") + " is set");
        }
        tls.finish();
        h.finish();
        return new HttpConfig(address, port, token, keystore == null ? null : Path.of(keystore), password);
    }

    private ClusterConfig cluster(Section c) {
        String name = c.name("name", null);
        String dialectKey = c.string("dialect", null, true);
        ClusterConfig.Dialect dialect = ClusterConfig.Dialect.of(dialectKey)
                .orElseThrow(() -> new ConfigException(
                        c.path("dialect") + ": '" + dialectKey + "' is not one of postgresql, mariadb, mysql"));
        String user = c.string("user", null, true);
        String password = c.secret("password");
        String database = c.string("database", dialect == ClusterConfig.Dialect.POSTGRESQL ? "postgres" : "", false);
        String replicationUser = c.string("replicationUser", user, false);
        Duration poll =
                c.duration("pollInterval", Duration.ofMillis(500), Duration.ofMillis(50), Duration.ofMinutes(1));
        Duration recheck =
                c.duration("recheckInterval", Duration.ofMillis(100), Duration.ofMillis(20), Duration.ofMinutes(1));
        Duration probeTimeout =
                c.duration("probeTimeout", Duration.ofMillis(400), Duration.ofMillis(50), Duration.ofSeconds(30));
        int threshold = c.integer("failureThreshold", 3, 1, 100);
        // bytes of WAL for PostgreSQL, transactions for the MySQL family
        long maxLag = c.longValue(
                "maxLagOnFailover",
                dialect == ClusterConfig.Dialect.POSTGRESQL ? 16L * 1024 * 1024 : 1000L,
                0,
                Long.MAX_VALUE);
        Duration catchUp =
                c.duration("catchUpTimeout", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(10));
        Duration antiFlap = c.duration("antiFlapWindow", Duration.ofSeconds(30), Duration.ZERO, Duration.ofDays(1));
        boolean errant = c.bool("allowErrantPromotion", false);
        String replicationPassword = c.has("replicationPassword") ? c.secret("replicationPassword") : password;
        String rejoinCommand = c.string("rejoinCommand", null, false);
        Duration drain = c.duration("drainTimeout", Duration.ofSeconds(2), Duration.ZERO, Duration.ofMinutes(10));
        Duration rejoinTimeout =
                c.duration("rejoinTimeout", Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofHours(1));
        Duration silence =
                c.duration("primarySilence", Duration.ofMillis(1500), Duration.ofMillis(100), Duration.ofMinutes(10));
        Duration lease =
                c.duration("clientLeaseTimeout", Duration.ofMillis(2500), Duration.ZERO, Duration.ofMinutes(10));
        String fenceCommand = c.string("fenceCommand", null, false);
        Duration fenceTimeout = c.duration(
                "fenceCommandTimeout", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofMinutes(10));
        Section h = c.section("hooks", false);
        HooksConfig hooks = new HooksConfig(
                h.string("preFailover", null, false),
                h.string("postFailover", null, false),
                h.string("postSwitchover", null, false),
                h.string("onFailoverRefused", null, false),
                h.duration("timeout", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofMinutes(10)));
        h.finish();

        List<NodeConfig> nodes = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        List<Section> nodeSections = c.list("nodes");
        if (nodeSections.size() < 2) {
            throw new ConfigException(
                    c.path("nodes") + ": a cluster needs at least 2 nodes (has " + nodeSections.size() + ")");
        }
        for (Section n : nodeSections) {
            NodeConfig node = new NodeConfig(
                    n.name("id", null),
                    n.string("host", null, true),
                    n.integer("port", null, 1, 65535),
                    n.integer("priority", 0, -1000, 1000),
                    n.bool("noFailover", false),
                    n.string("rejoinCommand", null, false),
                    replicationAddress(n),
                    n.bool("agent", false));
            n.finish();
            if (!ids.add(node.id())) {
                throw new ConfigException(
                        n.path("id") + ": '" + node.id() + "' is used by another node of cluster " + name);
            }
            if (!addresses.add(node.address())) {
                throw new ConfigException(
                        n.path("port") + ": " + node.address() + " is used by another node of cluster " + name);
            }
            nodes.add(node);
        }
        c.finish();
        return new ClusterConfig(
                name,
                dialect,
                user,
                password,
                database,
                replicationUser,
                nodes,
                poll,
                recheck,
                probeTimeout,
                threshold,
                maxLag,
                catchUp,
                antiFlap,
                errant,
                replicationPassword,
                rejoinCommand,
                drain,
                rejoinTimeout,
                silence,
                lease,
                fenceCommand,
                fenceTimeout,
                hooks);
    }

    /**
     * ZooKeeper's own client properties for {@code zookeeper.tls} (a secure client port over Netty, key and trust
     * stores) and {@code zookeeper.sasl} (a JAAS file and its login context, the server's principal).
     */
    private static Map<String, String> zooKeeperClientProperties(Section zk) {
        Map<String, String> props = new java.util.LinkedHashMap<>();
        if (zk.has("tls")) {
            Section tls = zk.section("tls", true);
            props.put("zookeeper.client.secure", "true");
            props.put("zookeeper.clientCnxnSocket", "org.apache.zookeeper.ClientCnxnSocketNetty");
            props.put("zookeeper.ssl.trustStore.location", readableFile(tls, "trustStore", true));
            props.put("zookeeper.ssl.trustStore.password", tls.secret("trustStorePassword"));
            String keyStore = readableFile(tls, "keyStore", false);
            if (keyStore != null) {
                props.put("zookeeper.ssl.keyStore.location", keyStore);
                props.put("zookeeper.ssl.keyStore.password", tls.secret("keyStorePassword"));
            }
            tls.finish();
        }
        if (zk.has("sasl")) {
            Section sasl = zk.section("sasl", true);
            props.put("zookeeper.sasl.client", "true");
            props.put("java.security.auth.login.config", readableFile(sasl, "jaasConfig", true));
            props.put("zookeeper.sasl.clientconfig", sasl.string("loginContext", "Client", false));
            String principal = sasl.string("serverPrincipal", null, false);
            if (principal != null) {
                props.put("zookeeper.server.principal", principal);
            }
            sasl.finish();
        }
        return props;
    }

    private static String readableFile(Section s, String key, boolean required) {
        String path = s.string(key, null, required);
        if (path != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(path))) {
            throw new ConfigException(s.path(key) + ": " + path + " is not a readable file");
        }
        return path;
    }

    /** A node's optional {@code replicationAddress}: host:port, the port a TCP port. */
    private static String replicationAddress(Section n) {
        String value = n.string("replicationAddress", null, false);
        if (value == null) {
            return null;
        }
        int colon = value.lastIndexOf(':');
        String port = colon < 0 ? "" : value.substring(colon + 1);
        if (colon < 1 || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new ConfigException(
                    n.path("replicationAddress") + ": '" + value + "' is not host:port with a TCP port (1-65535)");
        }
        return value;
    }

    /** A bound as an operator would write it: {@code 10m} rather than {@code 600000ms}. */
    private static String format(Duration d) {
        long ms = d.toMillis();
        if (ms != 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms != 0 && ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** A mapping being read: remembers which keys were used so that the rest can be reported as unknown. */
    final class Section {
        private final String prefix;
        private final JsonNode node;
        private final Set<String> used = new HashSet<>();

        Section(String prefix, JsonNode node) {
            this.prefix = prefix;
            this.node = node;
        }

        String path(String key) {
            return prefix.isEmpty() ? key : prefix + "." + key;
        }

        boolean has(String key) {
            return node.has(key) && !node.get(key).isNull();
        }

        private JsonNode get(String key) {
            used.add(key);
            JsonNode value = node.get(key);
            return value == null || value.isNull() ? null : value;
        }

        Section section(String key, boolean required) {
            JsonNode value = get(key);
            if (value == null) {
                if (required) {
                    throw new ConfigException(path(key) + ": is required");
                }
                return new Section(path(key), new YAMLMapper().createObjectNode());
            }
            if (!value.isObject()) {
                throw new ConfigException(path(key) + ": must be a mapping");
            }
            return new Section(path(key), value);
        }

        List<Section> list(String key) {
            JsonNode value = get(key);
            if (value == null) {
                throw new ConfigException(path(key) + ": is required");
            }
            if (!value.isArray()) {
                throw new ConfigException(path(key) + ": must be a list");
            }
            List<Section> sections = new ArrayList<>();
            for (int i = 0; i < value.size(); i++) {
                String itemPath = path(key) + "[" + i + "]";
                if (!value.get(i).isObject()) {
                    throw new ConfigException(itemPath + ": must be a mapping");
                }
                sections.add(new Section(itemPath, value.get(i)));
            }
            return sections;
        }

        String string(String key, String fallback, boolean required) {
            JsonNode value = get(key);
            if (value == null) {
                if (required) {
                    throw new ConfigException(path(key) + ": is required");
                }
                return fallback;
            }
            if (!value.isValueNode() || value.isBoolean()) {
                throw new ConfigException(path(key) + ": must be a string");
            }
            String text = substitute(key, value.asText()).strip();
            if (required && text.isEmpty()) {
                throw new ConfigException(path(key) + ": must not be empty");
            }
            return text;
        }

        /** A value never echoed in a message: errors name only the key and the rule. */
        String secret(String key) {
            JsonNode value = get(key);
            if (value == null) {
                return "";
            }
            if (!value.isValueNode()) {
                throw new ConfigException(path(key) + ": must be a string");
            }
            return substitute(key, value.asText());
        }

        String name(String key, String fallback) {
            String value = string(key, fallback, fallback == null);
            if (!RegistryPaths.isValidName(value)) {
                throw new ConfigException(
                        path(key) + ": '" + value + "' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
            }
            return value;
        }

        int integer(String key, Integer fallback, int min, int max) {
            return (int) longValue(key, fallback == null ? null : fallback.longValue(), min, max);
        }

        long longValue(String key, Long fallback, long min, long max) {
            JsonNode value = get(key);
            if (value == null) {
                if (fallback == null) {
                    throw new ConfigException(path(key) + ": is required");
                }
                return fallback;
            }
            String text = substitute(key, value.asText()).strip();
            String rule = (key.equals("port") ? " is not a TCP port (" : " is out of range (") + min + "-" + max + ")";
            long parsed;
            try {
                parsed = Long.parseLong(text);
            } catch (NumberFormatException e) {
                if (WHOLE_NUMBER.matcher(text).matches()) { // a whole number, beyond a long
                    throw new ConfigException(path(key) + ": " + text + rule);
                }
                throw new ConfigException(path(key) + ": '" + text + "' is not a whole number");
            }
            if (parsed < min || parsed > max) {
                throw new ConfigException(path(key) + ": " + parsed + rule);
            }
            return parsed;
        }

        boolean bool(String key, boolean fallback) {
            JsonNode value = get(key);
            if (value == null) {
                return fallback;
            }
            String text = substitute(key, value.asText()).strip();
            if (text.equals("true") || text.equals("false")) {
                return Boolean.parseBoolean(text);
            }
            throw new ConfigException(path(key) + ": '" + text + "' is not true or false");
        }

        Duration duration(String key, Duration fallback, Duration min, Duration max) {
            JsonNode value = get(key);
            if (value == null) {
                return fallback;
            }
            String text = substitute(key, value.asText()).strip();
            Matcher m = DURATION.matcher(text);
            if (!m.matches()) {
                throw new ConfigException(
                        path(key) + ": '" + text + "' is not a duration (a number of milliseconds, or 500ms, 2s, 1m)");
            }
            long unitMillis =
                    switch (m.group(2) == null ? "ms" : m.group(2)) {
                        case "s" -> 1000;
                        case "m" -> 60_000;
                        default -> 1;
                    };
            long amount;
            try {
                amount = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) { // digits only: beyond a long, so beyond any maximum
                amount = Long.MAX_VALUE;
            }
            long millis = amount > Long.MAX_VALUE / unitMillis ? Long.MAX_VALUE : amount * unitMillis;
            if (millis < min.toMillis() || millis > max.toMillis()) {
                throw new ConfigException(
                        path(key) + ": " + text + " is out of range (" + format(min) + "-" + format(max) + ")");
            }
            return Duration.ofMillis(millis);
        }

        private String substitute(String key, String text) {
            Matcher m = ENV.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String value = environment.apply(m.group(1));
                if (value == null) {
                    throw new ConfigException(path(key) + ": environment variable " + m.group(1) + " is not set");
                }
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            }
            m.appendTail(out);
            return out.toString();
        }

        void finish() {
            Set<String> unknown = new LinkedHashSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                String key = it.next().getKey();
                if (!used.contains(key)) {
                    unknown.add(path(key));
                }
            }
            if (!unknown.isEmpty()) {
                throw new ConfigException(String.join(", ", unknown) + ": unknown key" + (unknown.size() > 1 ? "s" : "")
                        + " (see docs/configuration.md)");
            }
        }
    }
}
