package dev.baton.jdbc;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection applications get: a thin proxy over HikariCP's pooled connection (and the statements it
 * creates) that
 *
 * <ul>
 *   <li>fails every call with SQLState 08006 once the primary it points to has been superseded by a newer
 *       epoch, so no statement runs on a node older than the newest epoch seen;
 *   <li>remembers a read-only error (the node was fenced or demoted) and evicts the connection when it is
 *       closed, so it never goes back to the pool. HikariCP 5.1's {@code SQLExceptionOverride} can only
 *       veto an eviction, not request one, hence this proxy.
 * </ul>
 */
final class FailoverConnection implements InvocationHandler {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverConnection.class);
    private static final ClassLoader LOADER = FailoverConnection.class.getClassLoader();
    // Proxy classes resolved once: every borrow and statement creates a proxy, and Proxy.newProxyInstance looks its
    // class up each time, which showed in the wrapper-overhead benchmark.
    private static final Constructor<?> CONNECTION_PROXY = proxyConstructor(Connection.class);
    private static final Constructor<?> STATEMENT_PROXY = proxyConstructor(Statement.class);
    private static final Constructor<?> PREPARED_PROXY = proxyConstructor(PreparedStatement.class);
    private static final Constructor<?> CALLABLE_PROXY = proxyConstructor(CallableStatement.class);

    private static Constructor<?> proxyConstructor(Class<?> iface) {
        try {
            return Proxy.newProxyInstance(LOADER, new Class<?>[] {iface}, (p, m, a) -> null)
                    .getClass()
                    .getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("no proxy constructor for " + iface, e);
        }
    }

    private static Object newProxy(Constructor<?> constructor, InvocationHandler handler) {
        try {
            return constructor.newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create a proxy", e);
        }
    }

    private final Connection pooled;
    private final PrimaryPool pool;
    private final Connection self;
    private volatile boolean evictOnClose;

    private FailoverConnection(Connection pooled, PrimaryPool pool) {
        this.pooled = pooled;
        this.pool = pool;
        this.self = (Connection) newProxy(CONNECTION_PROXY, this);
    }

    static Connection wrap(Connection pooled, PrimaryPool pool) {
        return new FailoverConnection(pooled, pool).self;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "close":
                if (evictOnClose && !pooled.isClosed()) {
                    pool.evict(pooled);
                }
                pooled.close();
                return null;
            case "isClosed":
                return pooled.isClosed();
            case "isValid":
                return !pool.isRetired() && pooled.isValid((Integer) args[0]);
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "BatonConnection[" + PrimaryPool.describe(pool.record()) + ", " + pooled + "]";
            case "unwrap":
                return ((Class<?>) args[0]).isInstance(proxy) ? proxy : pooled.unwrap((Class<?>) args[0]);
            case "isWrapperFor":
                return ((Class<?>) args[0]).isInstance(proxy) || pooled.isWrapperFor((Class<?>) args[0]);
            default:
                pool.checkCurrent();
                Object result = call(method, pooled, args);
                return result instanceof Statement ? wrapStatement((Statement) result, method.getReturnType()) : result;
        }
    }

    private Object call(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException) {
                throw onError((SQLException) cause);
            }
            throw cause;
        }
    }

    private SQLException onError(SQLException e) {
        if (!evictOnClose && pool.flavor().isReadOnly(e)) {
            evictOnClose = true;
            LOG.info(
                    "cluster {}: {} answered read-only (SQLState {}, code {}); the connection will be evicted",
                    pool.record().cluster(),
                    PrimaryPool.describe(pool.record()),
                    e.getSQLState(),
                    e.getErrorCode());
        }
        return pool.translate(e);
    }

    private Statement wrapStatement(Statement statement, Class<?> declared) {
        Class<?> iface = declared == CallableStatement.class
                ? CallableStatement.class
                : declared == PreparedStatement.class ? PreparedStatement.class : Statement.class;
        Constructor<?> constructor = iface == PreparedStatement.class
                ? PREPARED_PROXY
                : iface == CallableStatement.class ? CALLABLE_PROXY : STATEMENT_PROXY;
        return (Statement) newProxy(constructor, new StatementHandler(statement));
    }

    private final class StatementHandler implements InvocationHandler {
        private final Statement statement;

        StatementHandler(Statement statement) {
            this.statement = statement;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close":
                    statement.close();
                    return null;
                case "isClosed":
                    return statement.isClosed();
                case "getConnection":
                    return self;
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "BatonStatement[" + statement + "]";
                case "unwrap":
                    return ((Class<?>) args[0]).isInstance(proxy) ? proxy : statement.unwrap((Class<?>) args[0]);
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(proxy) || statement.isWrapperFor((Class<?>) args[0]);
                default:
                    pool.checkCurrent();
                    return call(method, statement, args);
            }
        }
    }
}
