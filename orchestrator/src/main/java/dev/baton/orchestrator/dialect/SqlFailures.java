package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.topology.FailureKind;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;

/** The one place that reads SQLStates and vendor codes to tell what kind of failure a database reported. */
public final class SqlFailures {
    private SqlFailures() {}

    public static FailureKind classify(SQLException e) {
        if (e instanceof SQLTimeoutException || causedBy(e, SocketTimeoutException.class)) {
            return FailureKind.TIMEOUT;
        }
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        int code = e.getErrorCode();
        if (state.startsWith("28") || code == 1045 || code == 1698) {
            return FailureKind.AUTHENTICATION;
        }
        if (state.startsWith("57P0") || code == 1053) {
            return FailureKind.SHUTDOWN;
        }
        if (state.equals("57014")) {
            return FailureKind.TIMEOUT;
        }
        if (state.startsWith("08") || code == 2002 || code == 2003 || code == 2006 || code == 2013) {
            return FailureKind.CONNECTION;
        }
        return FailureKind.OTHER;
    }

    /** True when the node refused a write because it is read-only (PostgreSQL 25006, MySQL family 1290 / 1836). */
    public static boolean isReadOnly(SQLException e) {
        return "25006".equals(e.getSQLState()) || e.getErrorCode() == 1290 || e.getErrorCode() == 1836;
    }

    /** A one-line description of the failure with {@code secret} masked wherever it appears. */
    public static String describe(Throwable e, String secret) {
        StringBuilder text = new StringBuilder();
        for (Throwable t = e; t != null && text.length() < 400; t = t.getCause()) {
            if (!text.isEmpty()) {
                text.append(": ");
            }
            text.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        String message = text.toString().lines().findFirst().orElse("");
        return secret == null || secret.isEmpty() ? message : message.replace(secret, "****");
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
            if (t.getCause() == t) {
                return false;
            }
        }
        return false;
    }
}
