package dev.baton.jdbc;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads every {@link FailoverDataSource} of a JVM shares, so that an idle data source costs no thread of its
 * own beyond its ZooKeeper client's: an application with one data source per tenant or shard would otherwise run
 * several threads, and their wake-ups, per data source.
 *
 * <ul>
 *   <li>{@link #TIMER}: lease pings and lease expiries, and HikariCP's housekeeping of every pool. Its tasks are short
 *       and never wait on a server.
 *   <li>{@link #WORKERS}: work that may take a while: closing a retired pool that opened connections, starting a
 *       new primary's pool that keeps idle connections.
 * </ul>
 *
 * <p>Both are daemon threads that end after a few idle seconds, so a JVM whose data sources are all closed is left
 * with none of them.
 */
final class SharedThreads {
    private static final long IDLE_SECONDS = 5;

    static final ScheduledThreadPoolExecutor TIMER = timer();

    static final ExecutorService WORKERS = workers();

    private SharedThreads() {}

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(2, daemons("baton-timer"));
        timer.setKeepAliveTime(IDLE_SECONDS, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
        timer.setRemoveOnCancelPolicy(true); // a closed data source's pending pings and checks do not linger
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return timer;
    }

    private static ExecutorService workers() {
        return new ThreadPoolExecutor(
                0,
                Integer.MAX_VALUE,
                IDLE_SECONDS,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(),
                daemons("baton-worker"));
    }

    private static ThreadFactory daemons(String name) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
