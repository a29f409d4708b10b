package dev.baton.orchestrator.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * Reads and validates an agent's YAML configuration ({@code baton agent --config agent.yml}), with the rules of
 * {@link ConfigLoader}: unknown keys are errors, every message names the key, the value and the rule.
 */
public final class AgentConfigLoader {
    private final ConfigLoader loader;

    public AgentConfigLoader(Function<String, String> environment) {
        this.loader = new ConfigLoader(environment);
    }

    public static AgentConfig load(Path file) {
        AgentConfigLoader l = new AgentConfigLoader(System::getenv);
        return l.parse(ConfigFile.read(file), file.toString());
    }

    public AgentConfig parse(String yaml, String source) {
        JsonNode root = ConfigYaml.parse(yaml, source);
        if (root == null || !root.isObject()) {
            throw new ConfigException(
                    source + ": must be a YAML mapping with 'zookeeper', 'cluster', 'node', 'dialect' and 'server'");
        }
        ConfigLoader.Section top = loader.root(root);
        ZooKeeperConfig zookeeper = ConfigLoader.zooKeeper(top.section("zookeeper", true));
        String cluster = top.name("cluster", null);
        String node = top.name("node", null);
        String dialectKey = top.string("dialect", null, true);
        ClusterConfig.Dialect dialect = ClusterConfig.Dialect.of(dialectKey)
                .orElseThrow(() -> new ConfigException(
                        top.path("dialect") + ": '" + dialectKey + "' is not one of postgresql, mariadb, mysql"));
        ConfigLoader.Section server = top.section("server", true);
        Path dataDirectory = absolute(server, "dataDirectory", server.string("dataDirectory", null, true));
        String pid = server.string("pidFile", null, dialect != ClusterConfig.Dialect.POSTGRESQL);
        Path pidFile = pid == null ? dataDirectory.resolve("postmaster.pid") : absolute(server, "pidFile", pid);
        server.finish();
        String fenceKey = top.string("fence", AgentConfig.Fence.STOP.key(), false);
        AgentConfig.Fence fence = null;
        for (AgentConfig.Fence f : AgentConfig.Fence.values()) {
            if (f.key().equals(fenceKey)) {
                fence = f;
            }
        }
        if (fence == null) {
            throw new ConfigException(top.path("fence") + ": '" + fenceKey + "' is not one of stop, none");
        }
        Duration lease =
                top.duration("leaseTimeout", Duration.ofSeconds(2), Duration.ofMillis(200), Duration.ofMinutes(1));
        Duration fits = zookeeper.sessionTimeout().multipliedBy(3).dividedBy(4);
        if (fence != AgentConfig.Fence.NONE
                && lease.plus(AgentConfig.FENCE_BUDGET).compareTo(fits) > 0) {
            throw new ConfigException(top.path("leaseTimeout") + ": " + lease.toMillis() + " ms plus the "
                    + AgentConfig.FENCE_BUDGET.toMillis() + " ms the fence may take must fit in three quarters of"
                    + " zookeeper.sessionTimeout (" + fits.toMillis() + " ms): the agent's registration goes with its"
                    + " session, so its server must be fenced before the session can expire");
        }
        boolean killHung = top.bool("killHungServer", false);
        Duration hungAfter =
                top.duration("hungAfter", Duration.ofMillis(500), Duration.ofMillis(100), Duration.ofMinutes(1));
        AgentConfig.Rejoin rejoin = null;
        if (top.has("rejoin")) {
            ConfigLoader.Section r = top.section("rejoin", true);
            if (dialect != ClusterConfig.Dialect.POSTGRESQL) {
                throw new ConfigException(top.path("rejoin") + ": the agent rejoins PostgreSQL nodes only; on "
                        + dialect.key() + " the orchestrator repoints a former primary over SQL (leave 'rejoin' out)");
            }
            String os = r.string("osUser", null, false);
            if (os != null && !os.matches("[a-z_][a-z0-9_-]{0,31}")) {
                throw new ConfigException(r.path("osUser") + ": '" + os + "' is not a user name");
            }
            String reclone = r.string("reclone", "never", false);
            if (!reclone.equals("never") && !reclone.equals("allow")) {
                throw new ConfigException(r.path("reclone") + ": '" + reclone + "' is not one of never, allow");
            }
            rejoin = new AgentConfig.Rejoin(
                    r.string("user", null, true),
                    r.has("password") ? r.secret("password") : null,
                    r.string("database", "postgres", false),
                    absolute(r, "binaries", r.string("binaries", null, true)),
                    os,
                    reclone.equals("allow"));
            r.finish();
        }
        top.finish();
        return new AgentConfig(
                zookeeper, cluster, node, dialect, dataDirectory, pidFile, fence, lease, killHung, hungAfter, rejoin);
    }

    private static Path absolute(ConfigLoader.Section s, String key, String value) {
        Path p = Path.of(value);
        if (!p.isAbsolute()) {
            throw new ConfigException(s.path(key) + ": '" + value + "' is not an absolute path");
        }
        return p.normalize();
    }
}
