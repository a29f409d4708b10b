package dev.baton.registry;

import java.util.regex.Pattern;

/**
 * The ZooKeeper paths of Baton's contract, relative to the namespace the {@link
 * org.apache.curator.framework.CuratorFramework} was built with (default {@code baton}).
 *
 * <p>Cluster and node names become path segments, so they are restricted to {@code [A-Za-z0-9_.-]}.
 */
public final class RegistryPaths {
    public static final String DEFAULT_NAMESPACE = "baton";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private RegistryPaths() {}

    /** True when {@code name} can be used as a cluster or node name (a single ZooKeeper path segment). */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    public static String members() {
        return "/orchestrators/members";
    }

    public static String member(String id) {
        return members() + "/" + checked(id);
    }

    public static String clusters() {
        return "/clusters";
    }

    public static String cluster(String cluster) {
        return clusters() + "/" + checked(cluster);
    }

    public static String leader(String cluster) {
        return cluster(cluster) + "/leader";
    }

    public static String primary(String cluster) {
        return cluster(cluster) + "/primary";
    }

    /** Parent of the {@link EpochNode}s: one per published primary record, its name carrying the record. */
    public static String epochs(String cluster) {
        return cluster(cluster) + "/epochs";
    }

    public static String epoch(String cluster, PrimaryRecord record) {
        return epochs(cluster) + "/" + EpochNode.name(record);
    }

    public static String nodes(String cluster) {
        return cluster(cluster) + "/nodes";
    }

    public static String node(String cluster, String node) {
        return nodes(cluster) + "/" + checked(node);
    }

    public static String lock(String cluster) {
        return cluster(cluster) + "/lock";
    }

    public static String operation(String cluster) {
        return cluster(cluster) + "/operation";
    }

    public static String requests(String cluster) {
        return cluster(cluster) + "/requests";
    }

    public static String history(String cluster) {
        return cluster(cluster) + "/history";
    }

    public static String paused(String cluster) {
        return cluster(cluster) + "/paused";
    }

    /** Present while a planned switchover asks wrappers to hold new borrows. */
    public static String hold(String cluster) {
        return cluster(cluster) + "/hold";
    }

    /**
     * Parent of the wrappers' registrations: one ephemeral node per data source, so that the orchestrator knows
     * whose acknowledgement of a hold it must have before it may skip waiting out their lease.
     */
    public static String clients(String cluster) {
        return cluster(cluster) + "/clients";
    }

    public static String client(String cluster, String clientId) {
        return clients(cluster) + "/" + checked(clientId);
    }

    /** Parent of the agents' records: one ephemeral {@link AgentRecord} per node that has an agent. */
    public static String agents(String cluster) {
        return cluster(cluster) + "/agents";
    }

    public static String agent(String cluster, String node) {
        return agents(cluster) + "/" + checked(node);
    }

    /** Parent of the acknowledgements of every hold of kind unconfirmed-primary. */
    public static String acks(String cluster) {
        return cluster(cluster) + "/acks";
    }

    /** The acknowledgements of one hold: an ephemeral child per wrapper that stopped using the held primary. */
    public static String acks(String cluster, String holdId) {
        return acks(cluster) + "/" + checked(holdId);
    }

    public static String ack(String cluster, String holdId, String clientId) {
        return acks(cluster, holdId) + "/" + checked(clientId);
    }

    private static String checked(String name) {
        if (!isValidName(name)) {
            throw new IllegalArgumentException(
                    "'" + name + "' is not a valid name (1-64 characters of A-Z a-z 0-9 _ . -)");
        }
        return name;
    }
}
