package dev.baton.jmh;

import com.zaxxer.hikari.HikariDataSource;
import dev.baton.jdbc.FailoverDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The same two cases as {@link WrapperOverhead}, paired: every invocation runs one operation through HikariCP and one
 * through {@link FailoverDataSource}, in random order, and adds each one's time to its side's counter. Both sides
 * share the fork, its JIT and every second of the machine's drift, so the ratio of the two counters in an iteration
 * is Baton's relative throughput with the drift cancelled; {@link WrapperJmh} gives its mean and 99.9 % error over
 * all iterations of all forks. (JMH's own score here is pairs per second, of no interest.)
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class PairedOverhead {
    static final String HIKARI_NANOS = "hikariNanos";
    static final String BATON_NANOS = "batonNanos";

    HikariDataSource hikari;
    FailoverDataSource baton;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        Target target = Target.fromSystemProperties();
        hikari = WrapperOverhead.hikari(target);
        baton = WrapperOverhead.baton(target);
        WrapperOverhead.check(hikari);
        WrapperOverhead.check(baton);
    }

    @TearDown(Level.Trial)
    public void close() {
        hikari.close();
        baton.close();
    }

    /** Nanoseconds spent in each side's operations during one iteration, summed (JMH reports them per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Times {
        public long hikariNanos;
        public long batonNanos;
        final SplittableRandom order = new SplittableRandom(42);

        @Setup(Level.Iteration)
        public void reset() {
            hikariNanos = 0;
            batonNanos = 0;
        }
    }

    /** One connection per side, kept for the whole trial. */
    @State(Scope.Thread)
    public static class Held {
        Connection hikari;
        Connection baton;

        @Setup(Level.Trial)
        public void borrow(PairedOverhead benchmark) throws SQLException {
            hikari = benchmark.hikari.getConnection();
            baton = benchmark.baton.getConnection();
        }

        @TearDown(Level.Trial)
        public void giveBack() throws SQLException {
            hikari.close();
            baton.close();
        }
    }

    @Benchmark
    public void borrowSelectClose(Times times) throws SQLException {
        if (times.order.nextBoolean()) {
            times.hikariNanos += borrowSelect(hikari);
            times.batonNanos += borrowSelect(baton);
        } else {
            times.batonNanos += borrowSelect(baton);
            times.hikariNanos += borrowSelect(hikari);
        }
    }

    @Benchmark
    public void heldSelect(Held held, Times times) throws SQLException {
        if (times.order.nextBoolean()) {
            times.hikariNanos += select(held.hikari);
            times.batonNanos += select(held.baton);
        } else {
            times.batonNanos += select(held.baton);
            times.hikariNanos += select(held.hikari);
        }
    }

    private static long borrowSelect(DataSource ds) throws SQLException {
        long start = System.nanoTime();
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(WrapperOverhead.POINT_SELECT)) {
            WrapperOverhead.select(ps);
        }
        return System.nanoTime() - start;
    }

    private static long select(Connection c) throws SQLException {
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(WrapperOverhead.POINT_SELECT)) {
            WrapperOverhead.select(ps);
        }
        return System.nanoTime() - start;
    }
}
