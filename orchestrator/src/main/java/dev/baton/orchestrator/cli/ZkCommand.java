package dev.baton.orchestrator.cli;

import dev.baton.orchestrator.config.BatonConfig;
import dev.baton.orchestrator.config.ClusterConfig;
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
        subcommands = {ZkCommand.Init.class, ZkCommand.Dump.class})
public final class ZkCommand {
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
                        + child
                        + (stat.getEphemeralOwner() != 0 ? " (ephemeral)" : "")
                        + (text.isEmpty() ? "" : "  " + text));
                walk(client, childPath, depth + 1, out);
            }
        }
    }
}
