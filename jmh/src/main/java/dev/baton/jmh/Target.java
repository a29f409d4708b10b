package dev.baton.jmh;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the benchmarks connect: the PostgreSQL primary, the ZooKeeper that publishes it and the cluster name,
 * handed from {@link WrapperJmh} to the forked benchmark JVMs as {@code -Dbaton.jmh.*} system properties.
 */
record Target(String zookeeper, String cluster, String host, int port, String database, String user, String password) {
    private static final String PREFIX = "baton.jmh.";

    String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The JVM options that make {@link #fromSystemProperties()} return this target in a fork. */
    List<String> jvmArgs() {
        List<String> args = new ArrayList<>();
        args.add("-D" + PREFIX + "zookeeper=" + zookeeper);
        args.add("-D" + PREFIX + "cluster=" + cluster);
        args.add("-D" + PREFIX + "host=" + host);
        args.add("-D" + PREFIX + "port=" + port);
        args.add("-D" + PREFIX + "database=" + database);
        args.add("-D" + PREFIX + "user=" + user);
        args.add("-D" + PREFIX + "password=" + password);
        return args;
    }

    @Override
    public String toString() {
        return "Target[" + zookeeper + " /" + cluster + ", " + jdbcUrl() + " as " + user + "]";
    }

    static Target fromSystemProperties() {
        return new Target(
                property("zookeeper"),
                property("cluster"),
                property("host"),
                Integer.parseInt(property("port")),
                property("database"),
                property("user"),
                property("password"));
    }

    private static String property(String name) {
        String value = System.getProperty(PREFIX + name);
        if (value == null) {
            throw new IllegalStateException("system property " + PREFIX + name + " is not set: run the benchmarks"
                    + " through WrapperJmh (bin/baton bench jmh), which starts the primary and ZooKeeper");
        }
        return value;
    }
}
