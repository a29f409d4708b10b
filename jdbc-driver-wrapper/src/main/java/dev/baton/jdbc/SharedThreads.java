package dev.baton.jdbc;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads every {@link FailoverDataSource} of a JVM shares, so that an idle data source costs no thread of its
 * own beyond its ZooKeeper client's: an application with one data source per tenant or shard would otherwise run
 * several threads, and their wake-ups, per data source.
 *
 * <ul>
 *   <li>{@link #TIMER}: lease pings and lease expiries, and HikariCP's housekeeping of every pool. Its tasks are short
 *       and never wait on a server.
 *   <li>{@link #WORKERS}: work that may take a while (closing a retired pool, Curator's cache notifications, which
 *       create the new primary's pool and call the application's listeners). A data source's notifications go
 *       through its own {@link #serial()} executor, so they keep their order.
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

    /** An executor that runs its tasks one at a time, in order, on {@link #WORKERS}. */
    static Executor serial() {
        return new Serial();
    }

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

    /** Tasks in submission order, at most one at a time, each on some worker thread. */
    private static final class Serial implements Executor {
        private static final Logger LOG = LoggerFactory.getLogger(SharedThreads.class);

        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private boolean draining;

        @Override
        public void execute(Runnable task) {
            synchronized (queue) {
                queue.add(task);
                if (draining) {
                    return;
                }
                draining = true;
            }
            try {
                WORKERS.execute(this::drain);
            } catch (RuntimeException e) {
                synchronized (queue) {
                    queue.clear();
                    draining = false;
                }
                throw e;
            }
        }

        private void drain() {
            while (true) {
                Runnable next;
                synchronized (queue) {
                    next = queue.poll();
                    if (next == null) {
                        draining = false;
                        return;
                    }
                }
                try {
                    next.run();
                } catch (RuntimeException e) {
                    LOG.warn("a wrapper task failed", e);
                }
            }
        }
    }
}
