/**
 * Real local database clusters and ZooKeeper for the demo, integration tests and benchmarks.
 *
 * <ul>
 *   <li>{@link dev.baton.sandbox.PostgresSandbox}: primary {@code pg1} + streaming replicas {@code pg2..} with physical
 *       slots, from the installed PostgreSQL binaries ({@code $BATON_PG_BIN}, {@code pg_config --bindir}, newest
 *       {@code /usr/lib/postgresql/N/bin}); run as user {@code postgres} via setpriv when the JVM is root. Its
 *       {@code rejoinCommand()} is a shell command template ({@code rejoin.sh} in the sandbox dir) with which an
 *       orchestrator turns a former primary into a standby of the promoted one; the server it restarts with pg_ctl
 *       is found through {@code postmaster.pid}.
 *   <li>{@link dev.baton.sandbox.MariaDbSandbox}: primary {@code db1} + GTID replicas {@code db2..} (read_only).
 *   <li>{@link dev.baton.sandbox.EmbeddedZooKeeper}, {@link dev.baton.sandbox.ZooKeeperEnsemble}: curator-test servers.
 *   <li>{@link dev.baton.sandbox.TcpProxy}: blackhole / refuse / heal a loopback link.
 * </ul>
 *
 * <p>Every sandbox lives in one {@code /tmp/baton-*} dir holding {@code owner.pid}; {@code close()} (also run by a
 * JVM shutdown hook) kills its servers and deletes the dir, and the next sandbox started on the machine reaps the dir
 * and servers of a JVM that died by SIGKILL. Servers listen on free loopback ports only.
 */
package dev.baton.sandbox;
