package dev.baton.jdbc;

import java.sql.SQLException;
import java.util.Locale;
import java.util.Set;

/**
 * What the wrapper must know about each database family: how to build the JDBC URL of a node and which
 * errors mean "this connection is broken", "this node is read-only (fenced or demoted)" or "the driver refused
 * to connect, and trying again will not help" (credentials, database name, driver settings).
 *
 * <p>MySQL and MariaDB are both served by MySQL Connector/J ({@code jdbc:mysql:}); Connector/J 8 speaks the
 * protocol of both, so the wrapper needs only one of the two drivers on the application's class path.
 */
enum DriverFlavor {
    /**
     * Refusals: 3D000 = the database does not exist, 42501 = no CONNECT privilege, 22023 = pgjdbc cannot parse a
     * property's value, 08004 = pgjdbc gave up before authenticating (the server has no SSL, no password was
     * given); class 28 (28000, 28P01) for every flavor.
     */
    POSTGRESQL(
            "jdbc:postgresql://",
            Set.of("25006"),
            Set.of(),
            Set.of("57P01", "57P02", "57P03"),
            Set.of(),
            Set.of("3D000", "42501", "22023", "08004"),
            Set.of()) {
        /**
         * pgjdbc reports a property value it does not accept ({@code sslmode=bogus}) as 08001 without a cause, where
         * a refused or timed-out connection carries its I/O exception as the cause.
         */
        @Override
        boolean refusedWithoutCause(SQLException e) {
            return "08001".equals(e.getSQLState()) && e.getCause() == null;
        }
    },
    /**
     * MySQL and MariaDB: 1290 = ER_OPTION_PREVENTS_STATEMENT (--read-only), 1836 = ER_READ_ONLY_MODE. Refusals:
     * 1044 = ER_DBACCESS_DENIED_ERROR, 1045 = ER_ACCESS_DENIED_ERROR, 1049 = ER_BAD_DB_ERROR, 1251 = the server
     * wants an authentication plugin the client lacks, 1698 = ER_ACCESS_DENIED_NO_PASSWORD_ERROR; S1009 =
     * Connector/J does not accept a property's value.
     */
    MYSQL(
            "jdbc:mysql://",
            Set.of(),
            Set.of(1290, 1836),
            Set.of(),
            Set.of(1927, 2006, 2013),
            Set.of("S1009"),
            Set.of(1044, 1045, 1049, 1251, 1698));

    /** How deep {@link SQLException#getNextException()} / cause chains are followed. */
    private static final int MAX_DEPTH = 10;

    private final String urlPrefix;
    private final Set<String> readOnlyStates;
    private final Set<Integer> readOnlyCodes;
    private final Set<String> brokenStates;
    private final Set<Integer> brokenCodes;
    private final Set<String> refusedStates;
    private final Set<Integer> refusedCodes;

    DriverFlavor(
            String urlPrefix,
            Set<String> readOnlyStates,
            Set<Integer> readOnlyCodes,
            Set<String> brokenStates,
            Set<Integer> brokenCodes,
            Set<String> refusedStates,
            Set<Integer> refusedCodes) {
        this.urlPrefix = urlPrefix;
        this.readOnlyStates = readOnlyStates;
        this.readOnlyCodes = readOnlyCodes;
        this.brokenStates = brokenStates;
        this.brokenCodes = brokenCodes;
        this.refusedStates = refusedStates;
        this.refusedCodes = refusedCodes;
    }

    /** The flavor of a {@code PrimaryRecord.dialect()}: {@code postgresql}, {@code mysql} or {@code mariadb}. */
    static DriverFlavor forDialect(String dialect) {
        String d = dialect == null ? "" : dialect.trim().toLowerCase(Locale.ROOT);
        switch (d) {
            case "postgresql":
            case "postgres":
                return POSTGRESQL;
            case "mysql":
            case "mariadb":
                return MYSQL;
            default:
                throw new IllegalArgumentException(
                        "dialect: '" + dialect + "' is not supported (postgresql, mysql, mariadb)");
        }
    }

    String jdbcUrl(String host, int port, String database) {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return urlPrefix + h + ":" + port + "/" + (database == null ? "" : database);
    }

    /** True when the error says the node refuses writes: it was fenced or demoted. */
    boolean isReadOnly(SQLException e) {
        return anyInChain(e, true);
    }

    /** True when the error says the connection cannot be used any more (SQLState class 08 and friends). */
    boolean isConnectionBroken(SQLException e) {
        return anyInChain(e, false);
    }

    /**
     * True when {@code e}, the driver's own failure to open a connection, will not go away by trying again: the
     * credentials were rejected (SQLState class 28), the database does not exist or may not be used, or the
     * driver does not accept one of its settings. A refused, reset or timed-out connection, a server that is
     * starting up or shutting down, too many connections: all of these are worth waiting for, and return false.
     */
    boolean isRefusal(SQLException e) {
        String state = e.getSQLState();
        return (state != null && (state.startsWith("28") || refusedStates.contains(state)))
                || refusedCodes.contains(e.getErrorCode())
                || refusedWithoutCause(e);
    }

    boolean refusedWithoutCause(SQLException e) {
        return false;
    }

    private boolean anyInChain(SQLException e, boolean readOnly) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < MAX_DEPTH; depth++) {
            if (t instanceof SQLException) {
                SQLException s = (SQLException) t;
                if (readOnly ? matchesReadOnly(s) : matchesBroken(s)) {
                    return true;
                }
                t = s.getNextException() != null ? s.getNextException() : s.getCause();
            } else {
                t = t.getCause();
            }
        }
        return false;
    }

    private boolean matchesReadOnly(SQLException s) {
        return (s.getSQLState() != null && readOnlyStates.contains(s.getSQLState()))
                || readOnlyCodes.contains(s.getErrorCode());
    }

    private boolean matchesBroken(SQLException s) {
        String state = s.getSQLState();
        return (state != null && (state.startsWith("08") || brokenStates.contains(state)))
                || brokenCodes.contains(s.getErrorCode());
    }
}
