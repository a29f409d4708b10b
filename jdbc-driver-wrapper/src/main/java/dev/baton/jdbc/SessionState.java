package dev.baton.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The session state of a logical connection that Baton carries to a new server when the connection moves: what
 * the application set through the JDBC API (autocommit, isolation, read-only, catalog, schema, holdability,
 * network timeout, client info). State set with SQL cannot be carried; {@link #untracked(String)} recognizes the
 * statements that create it, so that a connection holding such state fails instead of silently losing it.
 */
final class SessionState {
    /** The leading keywords are looked for in this many characters (after comments). */
    private static final int HEAD_CHARS = 64;

    private static final Pattern WITH_HOLD = Pattern.compile("\\bWITH\\s+HOLD\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern SESSION_FUNCTIONS = Pattern.compile(
            "\\b(set_config|pg_advisory_lock|pg_advisory_lock_shared|get_lock)\\s*\\(", Pattern.CASE_INSENSITIVE);
    private boolean autoCommit;
    private Integer isolation;
    private Boolean readOnly;
    private String catalog;
    private String schema;
    private Integer holdability;
    private Integer networkTimeoutMs;
    private Executor networkTimeoutExecutor;
    /** Created at the first {@code setClientInfo}: most connections never call it. */
    private Properties clientInfo;

    SessionState(boolean autoCommit) {
        this.autoCommit = autoCommit;
    }

    boolean autoCommit() {
        return autoCommit;
    }

    /** True when the application asked for a read-only connection: a read-only error is then its own. */
    boolean readOnlyRequested() {
        return Boolean.TRUE.equals(readOnly);
    }

    /**
     * Remembers a successful (or deferred) session setter call; returns false when {@code name} is not one of them.
     */
    boolean record(String name, Object[] args) {
        switch (name) {
            case "setAutoCommit" -> autoCommit = (Boolean) args[0];
            case "setTransactionIsolation" -> isolation = (Integer) args[0];
            case "setReadOnly" -> readOnly = (Boolean) args[0];
            case "setCatalog" -> catalog = (String) args[0];
            case "setSchema" -> schema = (String) args[0];
            case "setHoldability" -> holdability = (Integer) args[0];
            case "setNetworkTimeout" -> {
                networkTimeoutExecutor = (Executor) args[0];
                networkTimeoutMs = (Integer) args[1];
            }
            case "setClientInfo" -> {
                if (clientInfo == null) {
                    clientInfo = new Properties();
                }
                if (args[0] instanceof Properties all) {
                    clientInfo.clear();
                    clientInfo.putAll(all);
                } else if (args[1] == null) {
                    clientInfo.remove(args[0]);
                } else {
                    clientInfo.setProperty((String) args[0], (String) args[1]);
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Puts this state on a fresh connection from the pool (which has the pool's defaults). */
    void applyTo(Connection c) throws SQLException {
        if (c.getAutoCommit() != autoCommit) {
            c.setAutoCommit(autoCommit);
        }
        if (isolation != null) {
            c.setTransactionIsolation(isolation);
        }
        if (readOnly != null) {
            c.setReadOnly(readOnly);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (holdability != null) {
            c.setHoldability(holdability);
        }
        if (networkTimeoutMs != null) {
            c.setNetworkTimeout(networkTimeoutExecutor, networkTimeoutMs);
        }
        if (clientInfo != null && !clientInfo.isEmpty()) {
            c.setClientInfo(clientInfo);
        }
    }

    /**
     * Names the session state {@code sql} creates that lives only in the server session, or returns null. Only the
     * leading keywords are looked at (after comments), plus a few functions that take session-scoped locks or set
     * settings:
     *
     * <ul>
     *   <li>{@code SET ...} (but not {@code SET LOCAL} or {@code SET TRANSACTION}, which end with the transaction),
     *       {@code RESET}, MariaDB's {@code SET @var}, {@code USE db};
     *   <li>{@code CREATE TEMP/TEMPORARY ...}, {@code CREATE GLOBAL/LOCAL TEMPORARY ...};
     *   <li>{@code PREPARE}, {@code DECLARE ... WITH HOLD}, {@code LISTEN}, {@code LOCK TABLES};
     *   <li>{@code set_config(}, {@code pg_advisory_lock(} (session level), {@code GET_LOCK(} anywhere.
     * </ul>
     */
    static String untracked(String sql) {
        if (sql == null) {
            return null;
        }
        if (sql.length() > CACHED_SQL_CHARS) {
            return decide(sql);
        }
        String known = DECIDED.get(sql);
        if (known == null) {
            String found = decide(sql);
            known = found == null ? "" : found;
            if (DECIDED.size() >= CACHED_SQL_COUNT) {
                DECIDED.clear(); // SQL with literals in it never repeats: start over rather than grow
            }
            DECIDED.put(sql, known);
        }
        return known.isEmpty() ? null : known;
    }

    /**
     * Answers of {@link #untracked} by SQL text: it runs for every statement an application prepares, and most
     * applications prepare the same few hundred texts again and again.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, String> DECIDED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static final int CACHED_SQL_COUNT = 2048;
    private static final int CACHED_SQL_CHARS = 2000;

    /** Precompiled: String.split compiles its pattern on every call (this runs for every prepareStatement). */
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private static String decide(String sql) {
        String head = stripLeadingComments(sql);
        String s = head.substring(0, Math.min(head.length(), HEAD_CHARS)).toUpperCase(Locale.ROOT);
        String[] words = WHITESPACE.split(s, 4);
        String first = words[0];
        String second = words.length > 1 ? words[1] : "";
        String third = words.length > 2 ? words[2] : "";
        if (first.equals("SET") && !second.equals("LOCAL") && !second.equals("TRANSACTION")) {
            return "a session setting (SET " + second.toLowerCase(Locale.ROOT) + ")";
        }
        if (first.equals("RESET")) {
            return "a session setting (RESET)";
        }
        if (first.equals("USE")) {
            return "a current database changed with USE (call setCatalog instead)";
        }
        if (first.equals("CREATE")
                && (second.startsWith("TEMP")
                        || ((second.equals("GLOBAL") || second.equals("LOCAL")) && third.startsWith("TEMP")))) {
            return "a temporary table";
        }
        if (first.equals("PREPARE")) {
            return "a server-side prepared statement (PREPARE)";
        }
        if (first.equals("DECLARE") && WITH_HOLD.matcher(head).find()) {
            return "a holdable cursor";
        }
        if (first.equals("LISTEN")) {
            return "a LISTEN registration";
        }
        if (first.equals("LOCK") && second.startsWith("TABLE")) {
            return "table locks (LOCK TABLES)";
        }
        if (head.indexOf('(') < 0) {
            return null;
        }
        Matcher function = SESSION_FUNCTIONS.matcher(head);
        if (function.find()) {
            return function.group(1).equalsIgnoreCase("set_config")
                    ? "a session setting (set_config)"
                    : "a session-level lock (" + function.group(1).toLowerCase(Locale.ROOT) + ")";
        }
        return null;
    }

    private static String stripLeadingComments(String sql) {
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else if (sql.startsWith("--", i) || c == '#') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (sql.startsWith("/*", i)) {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else {
                break;
            }
        }
        return sql.substring(i);
    }
}
