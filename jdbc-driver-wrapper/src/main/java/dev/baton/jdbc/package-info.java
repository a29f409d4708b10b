/**
 * Baton's client side: applications follow the primary Baton publishes in ZooKeeper.
 *
 * <pre>{@code
 * DataSource ds = FailoverDataSource.builder()
 *         .zookeeper("zk1:2181,zk2:2181,zk3:2181")
 *         .cluster("orders")
 *         .user("app").password(secret)
 *         .database("shop")
 *         .hikari(c -> c.setMaximumPoolSize(20))
 *         .build();
 * }</pre>
 *
 * <p>or, changing only the URL: {@code jdbc:baton:zk://zk1:2181,zk2:2181/orders?database=shop} through
 * {@link java.sql.DriverManager} ({@link dev.baton.jdbc.BatonDriver}).
 *
 * <p>Guarantees: a connection never runs a statement on a node whose epoch is older than the newest epoch the
 * data source has seen (it fails with SQLState 08006 instead); a connection that met a read-only error (the node
 * was fenced) never returns to the pool; while ZooKeeper is unreachable the last known primary keeps serving.
 * The application's JDBC driver (pgjdbc, or MySQL Connector/J for MySQL and MariaDB) must be on the class path.
 */
package dev.baton.jdbc;
