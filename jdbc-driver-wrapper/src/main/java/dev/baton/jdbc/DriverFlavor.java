package dev.baton.jdbc;

import java.sql.SQLException;
import java.util.Locale;
import java.util.Set;

/**
 * What the wrapper must know about each database family: how to build the JDBC URL of a node and which
 * errors mean "this connection is broken" or "this node is read-only (fenced or demoted)".
 *
 * <p>MySQL and MariaDB are both served by MySQL Connector/J ({@code jdbc:mysql:}); Connector/J 8 speaks the
 * protocol of both, so the wrapper needs only one of the two drivers on the application's class path.
 */
enum DriverFlavor {
    POSTGRESQL("jdbc:postgresql://", Set.of("25006"), Set.of(), Set.of("57P01", "57P02", "57P03"), Set.of()),
    /** MySQL and MariaDB: 1290 = ER_OPTION_PREVENTS_STATEMENT (--read-only), 1836 = ER_READ_ONLY_MODE. */
    MYSQL("jdbc:mysql://", Set.of(), Set.of(1290, 1836), Set.of(), Set.of(1927, 2006, 2013));

    /** How deep {@link SQLException#getNextException()} / cause chains are followed. */
    private static final int MAX_DEPTH = 10;

    private final String urlPrefix;
    private final Set<String> readOnlyStates;
    private final Set<Integer> readOnlyCodes;
    private final Set<String> brokenStates;
    private final Set<Integer> brokenCodes;

    DriverFlavor(
            String urlPrefix,
            Set<String> readOnlyStates,
            Set<Integer> readOnlyCodes,
            Set<String> brokenStates,
            Set<Integer> brokenCodes) {
        this.urlPrefix = urlPrefix;
        this.readOnlyStates = readOnlyStates;
        this.readOnlyCodes = readOnlyCodes;
        this.brokenStates = brokenStates;
        this.brokenCodes = brokenCodes;
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
