package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
import dev.baton.registry.EpochNode;
import dev.baton.registry.RegistryJson;
import dev.baton.registry.RegistryPaths;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** ZooKeeper housekeeping for operators: create the namespace, look at what is in it. */
@Command(
        name = "zk",
        description = "ZooKeeper housekeeping: 'init' creates the namespace and the clusters' nodes (with digest ACLs"
                + " when zookeeper.digest is set), 'dump' prints the whole registry.",
        subcommands = {ZkCommand.Init.class, ZkCommand.Dump.class, ZkCommand.Watch.class})
public final class ZkCommand {
    /** A znode's content on one line, at most 1000 characters. */
    static String printable(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return text.length() > 1000 ? text.substring(0, 1000) + "... (" + data.length + " bytes)" : text;
    }

    /** Prints a cluster's primary record (and hold node) every time it changes, until interrupted or --count. */
    @Command(
            name = "watch",
            description = "Print the primary record of each cluster (or --cluster) and the hold node whenever they"
                    + " change, one line each with the time, until Ctrl-C.")
    static final class Watch implements Callable<Integer> {
        @Mixin
        ClusterOptions options;

        @picocli.CommandLine.Option(
                names = "--count",
                defaultValue = "0",
                description = "stop after this many lines (0: never)")
        int count;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            BatonConfig loaded = options.load();
            String only =
                    options.cluster == null ? null : options.cluster(loaded).name();
            PrintWriter out = spec.commandLine().getOut();
            java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
            return ClusterOptions.withZooKeeper(loaded, client -> {
                List<org.apache.curator.framework.recipes.cache.CuratorCache> caches = new java.util.ArrayList<>();
                try {
                    for (ClusterConfig cluster : loaded.clusters()) {
                        if (only != null && !only.equals(cluster.name())) {
                            continue;
                        }
                        for (String path :
                                List.of(RegistryPaths.primary(cluster.name()), RegistryPaths.hold(cluster.name()))) {
                            var cache = org.apache.curator.framework.recipes.cache.CuratorCache.build(
                                    client,
                                    path,
                                    org.apache.curator.framework.recipes.cache.CuratorCache.Options.SINGLE_NODE_CACHE);
                            cache.listenable()
                                    .addListener((type, before, after) -> lines.add(java.time.Instant.now() + " "
                                            + cluster.name() + " " + path.substring(path.lastIndexOf('/') + 1) + " "
                                            + switch (type) {
                                                case NODE_DELETED -> "deleted";
                                                default -> printable(after.getData()) + " (version "
                                                        + after.getStat().getVersion() + ")";
                                            }));
                            cache.start();
                            caches.add(cache);
                        }
                    }
                    for (int n = 0; count == 0 || n < count; n++) {
                        out.println(lines.take());
                        out.flush();
                    }
                    return 0;
                } finally {
                    caches.forEach(org.apache.curator.framework.recipes.cache.CuratorCache::close);
                }
            });
        }
    }

    @Command(name = "init", description = "Create the namespace and every configured cluster's nodes; idempotent.")
    static final class Init implements Callable<Integer> {
        @Mixin
        ClusterOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            BatonConfig loaded = options.load();
            PrintWriter out = spec.commandLine().getOut();
            return ClusterOptions.withZooKeeper(loaded, client -> {
                ensure(client, RegistryPaths.members(), out);
                for (ClusterConfig cluster : loaded.clusters()) {
                    for (String path : List.of(
                            RegistryPaths.cluster(cluster.name()),
                            RegistryPaths.nodes(cluster.name()),
                            RegistryPaths.requests(cluster.name()),
                            RegistryPaths.history(cluster.name()))) {
                        ensure(client, path, out);
                    }
                }
                List<ACL> acl = client.getACL().forPath(RegistryPaths.clusters());
                out.println(
                        "namespace /" + loaded.zookeeper().namespace() + " ready; ACL of /clusters: " + describe(acl));
                out.flush();
                return 0;
            });
        }

        private static void ensure(CuratorFramework client, String path, PrintWriter out) throws Exception {
            try {
                client.create().creatingParentsIfNeeded().forPath(path, new byte[0]);
                out.println("created " + path);
            } catch (KeeperException.NodeExistsException e) {
                out.println("exists  " + path);
            }
        }

        private static String describe(List<ACL> acl) {
            return acl.stream()
                    .map(a -> a.getId().getScheme() + ":"
                            + (a.getId().getScheme().equals("digest")
                                    ? a.getId()
                                                    .getId()
                                                    .substring(
                                                            0, a.getId().getId().indexOf(':') + 1) + "****"
                                    : a.getId().getId())
                            + "=" + perms(a.getPerms()))
                    .toList()
                    .toString();
        }

        private static String perms(int p) {
            return (p & 1) != 0 && (p & 2) != 0 ? "all" : (p & 1) != 0 ? "read" : Integer.toString(p);
        }
    }

    @Command(name = "dump", description = "Print every node of the registry with its content.")
    static final class Dump implements Callable<Integer> {
        @Mixin
        ClusterOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            BatonConfig loaded = options.load();
            PrintWriter out = spec.commandLine().getOut();
            return ClusterOptions.withZooKeeper(loaded, client -> {
                out.println("/" + loaded.zookeeper().namespace());
                walk(client, "/", 1, out);
                out.flush();
                return 0;
            });
        }

        /** A node's name; an epoch node's as its epoch and the record its name carries, which a reader can use. */
        private static String shown(String parent, String child) {
            if (!parent.endsWith("/epochs") || EpochNode.epoch(child) < 0) {
                return child;
            }
            try {
                return "epoch " + EpochNode.epoch(child) + " (record in the name)  "
                        + new String(RegistryJson.write(EpochNode.parse(child)), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return child + "  (" + e.getMessage() + ")";
            }
        }

        private static void walk(CuratorFramework client, String path, int depth, PrintWriter out) throws Exception {
            List<String> children;
            try {
                children = client.getChildren().forPath(path);
            } catch (KeeperException.NoNodeException e) {
                return;
            }
            for (String child : children.stream().sorted().toList()) {
                String childPath = (path.equals("/") ? "" : path) + "/" + child;
                Stat stat = new Stat();
                byte[] data;
                try {
                    data = client.getData().storingStatIn(stat).forPath(childPath);
                } catch (KeeperException.NoNodeException e) {
                    continue;
                }
                String text = data == null ? "" : new String(data, StandardCharsets.UTF_8).strip();
                out.println("  ".repeat(depth)
                        + shown(path, child)
                        + (stat.getEphemeralOwner() != 0 ? " (ephemeral)" : "")
                        + (text.isEmpty() ? "" : "  " + text));
                walk(client, childPath, depth + 1, out);
            }
        }
    }
}
