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

    /** One recorded call, replayed on a statement prepared again on another server. */
    private record Call(Method method, Object[] args) {}

    private final FailoverConnection connection;
    private final Method creator;
    private final Object[] creatorArgs;
    /** The SQL given at creation (prepared and callable statements), else null. */
    private final String sql;

    private final Statement self;
    private final Map<String, Call> settings = new LinkedHashMap<>();
    private final Map<Object, Call> parameters = new LinkedHashMap<>();
    private final List<List<Call>> batch = new ArrayList<>();
    private final List<String> sqlBatch = new ArrayList<>();

    /** What the creation SQL leaves in the session that cannot be carried ("" for nothing), computed once. */
    private String createdState;

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
            settings.put(name, new Call(method, args));
        } else if (declaring != Statement.class
                && (name.startsWith("set") || name.startsWith("registerOutParameter"))
                && args != null
                && args.length > 0) {
            parameters.put(name.startsWith("register") ? List.of("out", args[0]) : args[0], new Call(method, args));
        } else if (name.equals("clearParameters")) {
            parameters.clear();
        } else if (name.equals("addBatch")) {
            if (args == null || args.length == 0) {
                batch.add(List.copyOf(parameters.values()));
            } else {
                sqlBatch.add((String) args[0]);
            }
        } else if (name.equals("clearBatch")) {
            batch.clear();
            sqlBatch.clear();
        } else {
            return true;
        }
        // After its connection failed (and before it moves) the physical statement may be closed: record only.
        return physical != null && physicalSerial == connection.serial() && connection.healthyPhysical() != null;
    }

    private Object execute(Method method, Object[] args) throws Throwable {
        String name = method.getName();
        boolean isBatch = name.startsWith("executeBatch") || name.startsWith("executeLargeBatch");
        FailoverConnection.Kind kind = isBatch
                ? FailoverConnection.Kind.BATCH
                : name.equals("executeQuery") ? FailoverConnection.Kind.QUERY : FailoverConnection.Kind.WRITE;
        String text = args != null && args.length > 0 && args[0] instanceof String s ? s : sql;
        try {
            for (int attempt = 0; ; attempt++) {
                boolean hadWork = connection.begin();
                Statement target = current();
                try {
                    Object result = connection.resolvesWrite(kind, hadWork)
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
                    if (isBatch) {
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
                    if (attempt == 0 && connection.retriesNotCommitted(failure.exception())) {
                        continue;
                    }
                    throw failure.exception();
                } catch (SQLException mapped) {
                    // thrown mapped by resolvedWrite: its commit failed
                    if (attempt == 0 && connection.retriesNotCommitted(mapped)) {
                        continue;
                    }
                    throw mapped;
                }
            }
        } finally {
            if (isBatch) {
                batch.clear();
                sqlBatch.clear();
            }
        }
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
            for (Call c : settings.values()) {
                c.method().invoke(fresh, c.args());
            }
            for (Call c : parameters.values()) {
                c.method().invoke(fresh, c.args());
            }
            if (!batch.isEmpty() || !sqlBatch.isEmpty()) {
                Method addBatch = PreparedStatement.class.getMethod("addBatch");
                for (List<Call> entry : batch) {
                    for (Call c : entry) {
                        c.method().invoke(fresh, c.args());
                    }
                    addBatch.invoke(fresh);
                }
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

    private static Constructor<?> proxyConstructor(Class<?> iface) {
        try {
            return Proxy.newProxyInstance(LOADER, new Class<?>[] {iface}, (p, m, a) -> null)
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
