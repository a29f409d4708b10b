package dev.baton.bench;

import dev.baton.jdbc.BatonDriver;
import dev.baton.jdbc.FailoverDataSource;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The two applications of the fault matrix, each writing through Baton's wrapper in both ways applications use it: a
 * {@code FailoverDataSource} borrowed per write and a {@code jdbc:baton:} connection kept across writes.
 *
 * <p>Each application has its own network path, so that a partition can put them on different sides: its database
 * connections leave from its own loopback address (the drivers' {@code localSocketAddress}), which the nodes' front
 * proxies can cut per client; app A reaches ZooKeeper through the scenario's ZooKeeper proxies, app B directly, like
 * the orchestrator. The orchestrator connects from 127.0.0.1.
 */
final class MatrixApps implements AutoCloseable {
    /** App A: on the old primary's side of a partition. */
    static final String APP_A_ADDRESS = "127.0.0.2";
    /** App B: on ZooKeeper's side. */
    static final String APP_B_ADDRESS = "127.0.0.3";
    /** Held so that the level set on it stays (java.util.logging keeps loggers weakly). */
    private static final java.util.logging.Logger PGJDBC_LOG = java.util.logging.Logger.getLogger("org.postgresql");

    /** The name of app A's writer that uses the plain driver, not the wrapper. */
    static final String PLAIN_APP = "A/plain";
    /** The orchestrator's (and the replicas') address. */
    static final String ORCHESTRATOR_ADDRESS = "127.0.0.1";

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<Writer> writers = new ArrayList<>();

    /**
     * Opens both applications and starts their writers: {@code rate} writes a second per writer thread. With {@code
     * plainTo} (a node id), app A also writes through the plain driver (pgjdbc, Connector/J), with a connection kept
     * to that node's published address and opened again there after a failure, as psql or an application in another
     * language would: a client no wrapper fences.
     */
    MatrixApps(FailoverScenario scenario, int rate, String plainTo) throws Exception {
        try {
            AtomicLong ids = new AtomicLong();
            FailoverDataSource a = app(scenario, "A", scenario.zooKeeperProxied(), APP_A_ADDRESS, rate, ids);
            app(scenario, "B", scenario.zooKeeperConnect(), APP_B_ADDRESS, rate, ids);
            if (plainTo != null) {
                plain(scenario, a, plainTo, APP_A_ADDRESS, rate, ids);
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private FailoverDataSource app(
            FailoverScenario s, String name, String zooKeeper, String address, int rate, AtomicLong ids)
            throws Exception {
        LocalCluster cluster = s.cluster();
        FailoverDataSource ds = FailoverDataSource.builder()
                .zookeeper(zooKeeper)
                .namespace("baton")
                .cluster(FailoverScenario.CLUSTER)
                .user(cluster.user())
                .password(cluster.password())
                .database(cluster.database())
                .property("localSocketAddress", address)
                .initialPrimaryTimeout(Duration.ofSeconds(30))
                .build();
        resources.add(ds);
        String url = "jdbc:baton:zk://" + zooKeeper + "/" + FailoverScenario.CLUSTER + "?database=" + cluster.database()
                + "&localSocketAddress=" + address + "&initialPrimaryTimeoutMs=30000";
        writers.add(start(new Writer(
                name + "/borrow", Writer.Mode.BORROW, ds, ds::getConnection, cluster.dialect(), rate, 1, ids)));
        writers.add(start(new Writer(
                name + "/keep",
                Writer.Mode.KEEP,
                ds,
                () -> DriverManager.getConnection(url, cluster.user(), cluster.password()),
                cluster.dialect(),
                rate,
                1,
                ids)));
        return ds;
    }

    /** The table exists by now ({@code ds}'s writers made it); {@code ds} is only the Writer's way to make it. */
    private void plain(FailoverScenario s, FailoverDataSource ds, String node, String address, int rate, AtomicLong ids)
            throws Exception {
        LocalCluster cluster = s.cluster();
        int port = s.front(node).port();
        String url = cluster.dialect().equals("postgresql")
                ? "jdbc:postgresql://127.0.0.1:" + port + "/" + cluster.database() + "?localSocketAddress=" + address
                : "jdbc:mysql://127.0.0.1:" + port + "/" + cluster.database() + "?localSocketAddress=" + address;
        // pgjdbc logs a stack trace for every refused reconnection of a client that keeps trying a dead server
        PGJDBC_LOG.setLevel(java.util.logging.Level.OFF);
        java.sql.Driver driver = DriverManager.getDriver(url);
        java.util.Properties props = new java.util.Properties();
        props.setProperty("user", cluster.user());
        props.setProperty("password", cluster.password());
        writers.add(start(new Writer(
                "A/plain", Writer.Mode.KEEP, ds, () -> driver.connect(url, props), cluster.dialect(), rate, 1, ids)));
    }

    private Writer start(Writer w) throws Exception {
        resources.add(w);
        return w.start();
    }

    static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    long acknowledged() {
        return writers.stream().mapToLong(Writer::acknowledgedCount).sum();
    }

    /** Every write of every writer so far. */
    List<Writer.Write> writes() {
        List<Writer.Write> all = new ArrayList<>();
        writers.forEach(w -> all.addAll(w.writes()));
        return all;
    }

    /** Stops the writers (the writes in flight end first), keeping the data sources open. */
    void stopWriting() {
        writers.forEach(Writer::close);
    }

    @Override
    public void close() {
        stopWriting();
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                System.err.println("cleanup: " + e);
            }
        }
        BatonDriver.closeAll(); // the jdbc:baton: data sources of this scenario
    }
}
