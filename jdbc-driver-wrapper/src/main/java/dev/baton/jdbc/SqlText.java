package dev.baton.jdbc;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a statement's text says about its effect, for the exception contract: a statement that only reads cannot
 * have committed anything when its reply was lost, so it failed as "never ran" ({@code 08R01}); anything else may
 * have committed ({@code 08007}). Conservative: a text is a read only when it starts with a reading keyword and
 * names no writing clause. A SELECT that calls a function which writes cannot be told from its text: mark such a
 * statement idempotent or run it with {@code executeUpdate} (docs/wrapper.md).
 */
final class SqlText {
    private static final Pattern READING_START =
            Pattern.compile("^(select|show|values|table|describe|desc|explain)\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern WITH_START = Pattern.compile("^with\\b", Pattern.CASE_INSENSITIVE);
    /** Clauses that make a reading statement write: SELECT INTO, RETURNING, data-modifying CTEs, EXPLAIN ANALYZE. */
    private static final Pattern WRITING = Pattern.compile(
            "\\b(into|returning|insert|update|delete|merge|analyze|analyse|nextval|setval|lock)\\b",
            Pattern.CASE_INSENSITIVE);

    private SqlText() {}

    /** True when {@code sql} can only read (null or blank: false). */
    static boolean readsOnly(String sql) {
        if (sql == null) {
            return false;
        }
        String text = stripLeadingComments(sql).toLowerCase(Locale.ROOT);
        while (text.startsWith("(")) {
            text = text.substring(1).stripLeading();
        }
        if (!READING_START.matcher(text).find() && !WITH_START.matcher(text).find()) {
            return false;
        }
        return !WRITING.matcher(text).find() && !severalStatements(text);
    }

    /** True when a {@code ;} is followed by more text: several statements, of which a later one may write. */
    private static boolean severalStatements(String text) {
        int semicolon = text.indexOf(';');
        return semicolon >= 0 && !text.substring(semicolon + 1).isBlank();
    }

    /** {@code sql} without leading blanks, {@code --} line comments and block comments. */
    private static String stripLeadingComments(String sql) {
        String text = sql.stripLeading();
        while (true) {
            if (text.startsWith("--")) {
                int end = text.indexOf('\n');
                text = end < 0 ? "" : text.substring(end + 1).stripLeading();
            } else if (text.startsWith("/*")) {
                int end = text.indexOf("*/");
                text = end < 0 ? "" : text.substring(end + 2).stripLeading();
            } else {
                return text;
            }
        }
    }
}
