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
 * data source has seen: between transactions it moves to the current primary with its JDBC session state, inside a
 * transaction it fails with {@link dev.baton.jdbc.FailoverSqlStates#TRANSACTION_LOST}. Failures caused by a
 * failover, switchover, fence or the lease end in one of the {@link dev.baton.jdbc.FailoverSqlStates}. After
 * {@code leaseTimeout} without an answer from ZooKeeper no statement is sent to the primary it knows and lent
 * connections are aborted (unless {@code lease(false)}). See docs/wrapper.md.
 * The application's JDBC driver (pgjdbc, or MySQL Connector/J for MySQL and MariaDB) must be on the class path.
 */
package dev.baton.jdbc;
