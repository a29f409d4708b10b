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
        top.finish();
        return new AgentConfig(
                zookeeper, cluster, node, dialect, dataDirectory, pidFile, fence, lease, killHung, hungAfter);
    }

    private static Path absolute(ConfigLoader.Section s, String key, String value) {
        Path p = Path.of(value);
        if (!p.isAbsolute()) {
            throw new ConfigException(s.path(key) + ": '" + value + "' is not an absolute path");
        }
        return p.normalize();
    }
}
