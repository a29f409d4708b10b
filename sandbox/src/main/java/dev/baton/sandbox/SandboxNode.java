package dev.baton.sandbox;

/** One database server process of a sandbox cluster. */
public interface SandboxNode {
    /** "pg1","pg2","pg3" for PostgreSQL; "db1","db2","db3" for MariaDB. */
    String id();

    /** Always "127.0.0.1". */
    String host();

    int port();

    /** Pid of the server process currently running, -1 if not running. */
    long pid();

    boolean isRunning();

    /** SIGKILLs the server process (and its child processes, like a host crash); returns when they are gone. */
    void kill();

    /** SIGSTOPs the server (and its child processes): a hung server. */
    void pause();

    /** SIGCONTs what {@link #pause()} stopped. */
    void resume();

    /** Starts again on the same data dir and port; returns when it accepts connections. */
    void start();

    /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres} or {@code jdbc:mysql://127.0.0.1:PORT/baton}. */
    String jdbcUrl();
}
