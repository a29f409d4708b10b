package dev.baton.jdbc;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A statement of a {@link FailoverConnection}. It remembers how it was created, its settings (fetch size, timeouts,
 * ...), its bound parameters and its batch, so that when its connection moves to another server it is prepared
 * again there and the statement runs as if nothing happened. A statement whose SQL cannot be prepared on the new
 * server fails with that server's error.
 */
final class FailoverStatement implements InvocationHandler {
    private static final ClassLoader LOADER = FailoverStatement.class.getClassLoader();
    // Proxy classes resolved once: every statement creates a proxy, and Proxy.newProxyInstance looks its class up
    // each time, which showed in the wrapper-overhead benchmark.
    private static final Constructor<?> STATEMENT_PROXY = proxyConstructor(Statement.class);
    private static final Constructor<?> PREPARED_PROXY = proxyConstructor(PreparedStatement.class);
    private static final Constructor<?> CALLABLE_PROXY = proxyConstructor(CallableStatement.class);

    /** What the {@link BatonStatement#IDEMPOTENT_HINT} comment says, without the comment's delimiters. */
    private static final String HINT_WORD = "baton:idempotent";

    /** Parameter indexes up to this are kept in an array; beyond it (never in practice) in the map. */
    private static final int MAX_INDEXED = 65_536;

    /** One recorded call, replayed on a statement prepared again on another server. */
    private record Call(Method method, Object[] args) {}

    private final FailoverConnection connection;
    private final Method creator;
    private final Object[] creatorArgs;
    /** The SQL given at creation (prepared and callable statements), else null. */
    private final String sql;

    private final Statement self;
    // What is replayed on a statement prepared again; created at the first entry (most statements have none of some)
    private Map<String, Call> settings;
    /** Parameters set by index: {@code indexed[i]} is the last call that set parameter i (most statements). */
    private Call[] indexed;
    /** Parameters set by name, and out parameter registrations. */
    private Map<Object, Call> named;

    private List<List<Call>> batch;
    private List<String> sqlBatch;

    /** What the creation SQL leaves in the session that cannot be carried ("" for nothing), computed once. */
    private String createdState;
    /** Marked with {@link BatonStatement#setIdempotent}. */
    private boolean idempotent;

    private Statement physical;
    private int physicalSerial;
    private boolean closed;

    private FailoverStatement(FailoverConnection connection, Method creator, Object[] creatorArgs) {
        this.connection = connection;
        this.creator = creator;
        this.creatorArgs = creatorArgs;
        this.sql = creator.getName().equals("createStatement") ? null : (String) creatorArgs[0];
        Class<?> type = creator.getReturnType();
        Constructor<?> constructor = type == CallableStatement.class
                ? CALLABLE_PROXY
                : type == PreparedStatement.class ? PREPARED_PROXY : STATEMENT_PROXY;
        this.self = (Statement) newProxy(constructor, connection.countingFailures(this));
    }

    /** A new statement; the physical one is created now when the connection is healthy, else on first use. */
    static Statement create(FailoverConnection connection, Method creator, Object[] args) throws SQLException {
        FailoverStatement s = new FailoverStatement(connection, creator, args);
        Connection pooled = connection.healthyPhysical();
        if (pooled != null) {
            s.physical = (Statement) connection.callPhysical(creator, pooled, args);
            s.physicalSerial = connection.serial();
        }
        return s.self;
    }

    String sql() {
        return sql;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "close":
                closed = true;
                if (physical != null) {
                    Statement s = physical;
                    physical = null;
                    s.close();
                }
                return null;
            case "isClosed":
                return closed || connection.isClosedQuietly();
            case "getConnection":
                return connection.self();
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "BatonStatement[" + physical + "]";
            case "unwrap":
                return ((Class<?>) args[0]).isInstance(proxy)
                        ? proxy
                        : current().unwrap((Class<?>) args[0]);
            case "isWrapperFor":
                return ((Class<?>) args[0]).isInstance(proxy) || current().isWrapperFor((Class<?>) args[0]);
            default:
                break;
        }
        if (closed) {
            throw new SQLException("statement is closed", "HY010");
        }
        if (method.getDeclaringClass() == BatonStatement.class) {
            if (name.equals("setIdempotent")) {
                idempotent = (Boolean) args[0];
                return null;
            }
            return idempotent;
        }
        if (name.startsWith("execute")) {
            return execute(method, args);
        }
        boolean delegate = record(method, args);
        if (!delegate) {
            return null;
        }
        return connection.callOther(method, current(), args);
    }

    /**
     * Remembers a setting, parameter or batch entry; returns false when the call need not reach the physical
     * statement now (it is stale and will be prepared again with everything recorded).
     */
    private boolean record(Method method, Object[] args) {
        String name = method.getName();
        Class<?> declaring = method.getDeclaringClass();
        if (declaring == Statement.class && (name.startsWith("set") || name.equals("closeOnCompletion"))) {
            if (settings == null) {
                settings = new LinkedHashMap<>();
            }
            settings.put(name, new Call(method, args));
        } else if (declaring != Statement.class
                && (name.startsWith("set") || name.startsWith("registerOutParameter"))
                && args != null
                && args.length > 0) {
            Call call = new Call(method, args);
            if (!name.startsWith("register") && args[0] instanceof Integer i && i >= 0 && i < MAX_INDEXED) {
                if (indexed == null) {
                    indexed = new Call[Math.max(8, i + 1)];
                } else if (indexed.length <= i) {
                    indexed = java.util.Arrays.copyOf(indexed, Math.max(i + 1, 2 * indexed.length));
                }
                indexed[i] = call;
            } else {
                if (named == null) {
                    named = new LinkedHashMap<>();
                }
                named.put(name.startsWith("register") ? List.of("out", args[0]) : args[0], call);
            }
        } else if (name.equals("clearParameters")) {
            indexed = null;
            named = null;
        } else if (name.equals("addBatch")) {
            if (args == null || args.length == 0) {
                if (batch == null) {
                    batch = new ArrayList<>();
                }
                batch.add(parameterCalls());
            } else {
                if (sqlBatch == null) {
                    sqlBatch = new ArrayList<>();
                }
                sqlBatch.add((String) args[0]);
            }
        } else if (name.equals("clearBatch")) {
            batch = null;
            sqlBatch = null;
        } else {
            return true;
        }
        // After its connection failed (and before it moves) the physical statement may be closed: record only.
        return physical != null && physicalSerial == connection.serial() && connection.healthyPhysical() != null;
    }

    private Object execute(Method method, Object[] args) throws Throwable {
        String name = method.getName();
        boolean isBatch = name.startsWith("executeBatch") || name.startsWith("executeLargeBatch");
        String text = args != null && args.length > 0 && args[0] instanceof String s ? s : sql;
        // By what is sent, not by the method: executeQuery("INSERT ... RETURNING") or a {call} may commit, and
        // PreparedStatement.execute() of a SELECT writes nothing.
        FailoverConnection.Kind kind = isBatch
                ? FailoverConnection.Kind.BATCH
                : !name.startsWith("executeUpdate") && !name.startsWith("executeLargeUpdate") && SqlText.readsOnly(text)
                        ? FailoverConnection.Kind.QUERY
                        : FailoverConnection.Kind.WRITE; // executeUpdate says it writes, whatever its text
        try {
            for (int attempt = 0; ; attempt++) {
                boolean hadWork = connection.begin();
                Statement target = current();
                try {
                    // A result set is not carried through Baton's own transaction: executeQuery is not resolved
                    Object result = connection.resolvesWrite(kind, hadWork) && !name.equals("executeQuery")
                            ? connection.resolvedWrite(kind, () -> method.invoke(target, args))
                            : method.invoke(target, args);
                    if (text == sql) {
                        if (createdState == null) {
                            String found = SessionState.untracked(sql);
                            createdState = found == null ? "" : found;
                        }
                        if (!createdState.isEmpty()) {
                            connection.executed(sql);
                        }
                    } else {
                        connection.executed(text);
                    }
                    if (isBatch && sqlBatch != null) {
                        for (String s : sqlBatch) {
                            connection.executed(s);
                        }
                    }
                    return result;
                } catch (java.lang.reflect.InvocationTargetException e) {
                    if (!(e.getCause() instanceof SQLException cause)) {
                        throw e.getCause();
                    }
                    FailoverConnection.Failure failure = connection.fail(cause, kind, hadWork);
                    if (failure.retryAfterSwitch() && attempt == 0 && connection.awaitSwitch(failure.exception())) {
                        continue;
                    }
                    if (attempt == 0 && runsAgain(failure.exception(), hadWork, text)) {
                        continue;
                    }
                    throw failure.exception();
                } catch (SQLException mapped) {
                    // thrown mapped by resolvedWrite: its commit failed
                    if (attempt == 0 && runsAgain(mapped, hadWork, text)) {
                        continue;
                    }
                    throw mapped;
                }
            }
        } finally {
            if (isBatch) {
                batch = null;
                sqlBatch = null;
            }
        }
    }

    /**
     * True when a statement that failed with {@code e} runs once more: it did not commit and the data source runs
     * such writes again, or the application marked it idempotent and it ran alone in autocommit.
     */
    private boolean runsAgain(SQLException e, boolean hadWork, String text) {
        return connection.retriesNotCommitted(e)
                || ((idempotent || hinted(text)) && connection.retriesIdempotent(e, hadWork));
    }

    /** True when {@code sql} starts (after whitespace) with the {@link BatonStatement#IDEMPOTENT_HINT} comment. */
    static boolean hinted(String sql) {
        if (sql == null) {
            return false;
        }
        int i = skipSpace(sql, 0);
        if (!sql.startsWith("/*", i)) {
            return false;
        }
        int end = sql.indexOf("*/", i + 2);
        if (end < 0) {
            return false;
        }
        int from = skipSpace(sql, i + 2);
        int to = end;
        while (to > from && Character.isWhitespace(sql.charAt(to - 1))) {
            to--;
        }
        return to - from == HINT_WORD.length() && sql.regionMatches(true, from, HINT_WORD, 0, HINT_WORD.length());
    }

    private static int skipSpace(String s, int from) {
        int i = from;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The physical statement on the connection's current server, prepared again there if it moved. */
    private Statement current() throws SQLException {
        int serial = connection.serial();
        if (physical != null && physicalSerial == serial) {
            return physical;
        }
        Statement stale = physical;
        physical = null;
        if (stale != null) {
            try {
                stale.close();
            } catch (SQLException ignored) {
                // it belongs to a connection that is gone
            }
        }
        Connection pooled = connection.physicalForStatement();
        Statement fresh = (Statement) connection.callPhysical(creator, pooled, creatorArgs);
        try {
            replay(settings == null ? List.of() : settings.values(), fresh);
            replay(parameterCalls(), fresh);
            if (batch != null) {
                Method addBatch = PreparedStatement.class.getMethod("addBatch");
                for (List<Call> entry : batch) {
                    replay(entry, fresh);
                    addBatch.invoke(fresh);
                }
            }
            if (sqlBatch != null) {
                Method addSql = Statement.class.getMethod("addBatch", String.class);
                for (String s : sqlBatch) {
                    addSql.invoke(fresh, s);
                }
            }
        } catch (java.lang.reflect.InvocationTargetException e) {
            fresh.close();
            throw e.getCause() instanceof SQLException cause
                    ? cause
                    : new SQLException("cannot prepare the statement again on the new primary", e.getCause());
        } catch (ReflectiveOperationException e) {
            fresh.close();
            throw new IllegalStateException(e);
        }
        physical = fresh;
        physicalSerial = serial;
        return fresh;
    }

    /** The calls that set the current parameters: by index, then by name. */
    private List<Call> parameterCalls() {
        if (indexed == null && named == null) {
            return List.of();
        }
        List<Call> calls = new ArrayList<>();
        if (indexed != null) {
            for (Call c : indexed) {
                if (c != null) {
                    calls.add(c);
                }
            }
        }
        if (named != null) {
            calls.addAll(named.values());
        }
        return calls;
    }

    private static void replay(java.util.Collection<Call> calls, Statement target) throws ReflectiveOperationException {
        for (Call c : calls) {
            c.method().invoke(target, c.args());
        }
    }

    private static Constructor<?> proxyConstructor(Class<?> iface) {
        try {
            return Proxy.newProxyInstance(LOADER, new Class<?>[] {iface, BatonStatement.class}, (p, m, a) -> null)
                    .getClass()
                    .getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("no proxy constructor for " + iface, e);
        }
    }

    static Object newProxy(Constructor<?> constructor, InvocationHandler handler) {
        try {
            return constructor.newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create a proxy", e);
        }
    }
}
