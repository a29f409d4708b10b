package dev.baton.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;

/**
 * Commit outcome resolution ({@link FailoverDataSource.Builder#resolveCommitOutcome(boolean)}): what is learned on
 * the primary just before a commit, and how the primary that serves afterwards (the promoted replica, or the same
 * server) tells whether that commit survived. See docs/wrapper.md, "Commit outcome resolution".
 *
 * <p>The decisions are pure functions of what the two queries return ({@link Pg#decide}, {@link Gtid#decide}); only
 * {@link #mark} and {@link Marker#resolve} talk to a server.
 */
final class CommitOutcome {
    /** What the primary serving now says about a commit whose acknowledgment was lost. */
    enum Outcome {
        COMMITTED,
        NOT_COMMITTED,
        /** Cannot be decided (the reason is kept for the error message). */
        UNKNOWN
    }

    /** An answer and, for {@link Outcome#UNKNOWN}, why. */
    record Answer(Outcome outcome, String why) {
        static Answer of(Outcome outcome, String why) {
            return new Answer(outcome, why);
        }
    }

    /** What was learned before the commit; {@link #resolve} asks a server what became of it. */
    sealed interface Marker permits Pg, Gtid {
        Answer resolve(Connection onPrimary) throws SQLException;

        /** Nothing to lose: the transaction wrote nothing (PostgreSQL: no transaction id was assigned). */
        default boolean wroteNothing() {
            return false;
        }
    }

    private static final int IN_PROGRESS_POLLS = 20;
    private static final long IN_PROGRESS_POLL_MS = 50;

    private CommitOutcome() {}

    /**
     * Runs on the physical connection, inside the transaction, after its writes and before its commit (PostgreSQL), or
     * before the autocommit write (MariaDB/MySQL: the GTID is assigned at the commit, so only the position before it
     * can be known). One round trip.
     */
    static Marker mark(DriverFlavor flavor, Connection physical) throws SQLException {
        try (Statement s = physical.createStatement()) {
            if (flavor == DriverFlavor.POSTGRESQL) {
                try (ResultSet rs = s.executeQuery("SELECT pg_current_xact_id_if_assigned()::text,"
                        + " pg_current_wal_insert_lsn()::text, pg_walfile_name(pg_current_wal_insert_lsn()),"
                        + " pg_postmaster_start_time()::text")) {
                    rs.next();
                    return new Pg(
                            rs.getString(1), parseLsn(rs.getString(2)), timelineOf(rs.getString(3)), rs.getString(4));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT @@gtid_binlog_pos, @@session.gtid_domain_id, @@server_id")) {
                rs.next();
                long domain = rs.getLong(2);
                return new Gtid(domain, rs.getLong(3), seqOf(rs.getString(1), domain));
            }
        }
    }

    /**
     * PostgreSQL: the transaction id (null when none was assigned: nothing was written), the WAL insert position after
     * its writes, the timeline and the postmaster's start time of the server it ran on.
     *
     * <p>{@code pg_xact_status(xid)} is the answer only where the xid cannot have been reused by a transaction of the
     * new timeline, that is where the serving server's history contains the transaction's writes: the same server
     * still running, or a server whose recovery replayed past {@code lsn} on the same timeline or on the one it was
     * promoted from ({@link #decide}).
     */
    record Pg(String xid, long lsn, long timeline, String postmasterStart) implements Marker {
        /** What the serving primary reports about itself. */
        record Serving(long timeline, String postmasterStart, Long replayLsn, boolean promotedWithoutRestart) {}

        /** What to do: ask {@code pg_xact_status}, or an answer without asking. */
        record Decision(boolean askStatus, Answer answer) {}

        @Override
        public boolean wroteNothing() {
            return xid == null;
        }

        static Decision decide(Pg m, Serving s) {
            if (s.timeline() < m.timeline()) {
                return answer(
                        Outcome.UNKNOWN,
                        "the primary now serving is on timeline " + s.timeline() + ", older than the commit's timeline "
                                + m.timeline());
            }
            boolean sameTimeline = s.timeline() == m.timeline();
            if (sameTimeline && s.postmasterStart().equals(m.postmasterStart())) {
                return new Decision(true, null); // the same server, still running: its xid space went on
            }
            if (s.replayLsn() == null) {
                return sameTimeline
                        // restarted cleanly on the same timeline: the commit's writes were flushed, the xid not reused
                        ? new Decision(true, null)
                        : answer(Outcome.UNKNOWN, "the primary now serving was restarted after its promotion");
            }
            if (s.replayLsn() < m.lsn()) {
                // Its history left the commit's timeline (promotion or crash recovery) before the commit record.
                return answer(Outcome.NOT_COMMITTED, null);
            }
            if (sameTimeline || (s.timeline() == m.timeline() + 1 && s.promotedWithoutRestart())) {
                return new Decision(true, null); // it replayed the transaction's writes: the xid is that transaction's
            }
            return answer(
                    Outcome.UNKNOWN,
                    "the primary now serving (timeline " + s.timeline() + ") is not the replica promoted from"
                            + " the commit's timeline " + m.timeline() + " without a restart");
        }

        private static Decision answer(Outcome outcome, String why) {
            return new Decision(false, Answer.of(outcome, why));
        }

        @Override
        public Answer resolve(Connection onPrimary) throws SQLException {
            Serving serving;
            try (Statement s = onPrimary.createStatement();
                    ResultSet rs = s.executeQuery("SELECT pg_walfile_name(pg_current_wal_lsn()),"
                            + " pg_postmaster_start_time()::text, pg_last_wal_replay_lsn()::text,"
                            + " pg_last_wal_receive_lsn() IS NOT NULL")) {
                rs.next();
                String replay = rs.getString(3);
                serving = new Serving(
                        timelineOf(rs.getString(1)),
                        rs.getString(2),
                        replay == null ? null : parseLsn(replay),
                        rs.getBoolean(4));
            }
            Decision d = decide(this, serving);
            if (!d.askStatus()) {
                return d.answer();
            }
            try (PreparedStatement ps = onPrimary.prepareStatement("SELECT pg_xact_status(?::xid8)")) {
                ps.setString(1, xid);
                for (int poll = 0; ; poll++) {
                    String status;
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        status = rs.getString(1);
                    }
                    if ("committed".equals(status)) {
                        return Answer.of(Outcome.COMMITTED, null);
                    }
                    if ("aborted".equals(status)) {
                        return Answer.of(Outcome.NOT_COMMITTED, null);
                    }
                    if (status == null || poll >= IN_PROGRESS_POLLS) {
                        return Answer.of(
                                Outcome.UNKNOWN,
                                "pg_xact_status(" + xid + ") is " + (status == null ? "null (too old)" : status));
                    }
                    sleep(); // still committing on the same server (its session is being ended)
                }
            }
        }
    }

    /**
     * MariaDB: the last sequence number of the session's GTID domain in {@code gtid_binlog_pos} before the commit (its
     * own GTID, assigned at the commit, is higher), and the server it ran on. A promoted replica's
     * {@code gtid_slave_pos} is what it applied from the old primary: nothing past {@code seqBefore} in that domain
     * means the commit did not reach it. Anything past it may be another session's commit: a GTID does not name its
     * session, so "committed" cannot be told from the positions ({@link #decide}).
     */
    record Gtid(long domain, long serverId, long seqBefore) implements Marker {
        static Answer decide(Gtid m, long servingServerId, String servingSlavePos) {
            if (servingServerId == m.serverId()) {
                return Answer.of(
                        Outcome.UNKNOWN,
                        "the same server (server_id " + servingServerId + ") serves: its binlog position cannot tell"
                                + " this session's commit from another's");
            }
            long applied = seqOf(servingSlavePos, m.domain());
            if (applied <= m.seqBefore()) {
                return Answer.of(Outcome.NOT_COMMITTED, null);
            }
            return Answer.of(
                    Outcome.UNKNOWN,
                    "the new primary applied GTID domain " + m.domain() + " up to " + applied + ", past "
                            + m.seqBefore() + " seen before the commit: a GTID does not name its session");
        }

        @Override
        public Answer resolve(Connection onPrimary) throws SQLException {
            try (Statement s = onPrimary.createStatement();
                    ResultSet rs = s.executeQuery("SELECT @@server_id, @@gtid_slave_pos")) {
                rs.next();
                return decide(this, rs.getLong(1), rs.getString(2));
            }
        }
    }

    /** The sequence number of {@code domain} in a MariaDB GTID position {@code d-s-n[,d-s-n...]}, 0 if absent. */
    static long seqOf(String position, long domain) {
        if (position == null || position.isBlank()) {
            return 0;
        }
        for (String gtid : position.split(",")) {
            String[] parts = gtid.trim().split("-");
            if (parts.length == 3 && Long.parseLong(parts[0]) == domain) {
                return Long.parseLong(parts[2]);
            }
        }
        return 0;
    }

    /** A PostgreSQL {@code pg_lsn} as text ({@code 16/B374D848}) as an unsigned-comparable long. */
    static long parseLsn(String text) {
        int slash = text.indexOf('/');
        return (Long.parseLong(text.substring(0, slash), 16) << 32) | Long.parseLong(text.substring(slash + 1), 16);
    }

    /** The timeline of a WAL file name: its first 8 hex digits. */
    static long timelineOf(String walFileName) {
        return Long.parseLong(Objects.requireNonNull(walFileName, "walFileName").substring(0, 8), 16);
    }

    /**
     * Asks the primary serving now (waiting for one as a borrow does, up to {@code connectionTimeout}) what became of
     * the commit {@code mark}; {@link Outcome#UNKNOWN} when there is none or asking fails.
     */
    static Answer ask(FailoverDataSource ds, Marker mark) {
        FailoverDataSource.Lent lent;
        try {
            lent = ds.lend();
        } catch (SQLException e) {
            return Answer.of(Outcome.UNKNOWN, "no primary to ask (" + e.getSQLState() + "): " + e.getMessage());
        }
        try {
            return mark.resolve(lent.pooled());
        } catch (SQLException e) {
            lent.pool().evict(lent.pooled());
            return Answer.of(
                    Outcome.UNKNOWN,
                    "asking " + PrimaryPool.describe(lent.pool().record()) + " failed (" + e.getSQLState() + "): "
                            + e.getMessage());
        } finally {
            try {
                lent.pooled().close();
            } catch (SQLException e) {
                // evicted or already closed
            }
        }
    }

    private static void sleep() throws SQLException {
        try {
            Thread.sleep(IN_PROGRESS_POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw FailoverSqlStates.notRun("interrupted while resolving a commit outcome", e);
        }
    }
}
