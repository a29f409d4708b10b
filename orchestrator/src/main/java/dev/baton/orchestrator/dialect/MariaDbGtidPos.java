package dev.baton.orchestrator.dialect;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A MariaDB GTID position ({@code @@gtid_binlog_pos}, {@code @@gtid_slave_pos}, {@code Gtid_IO_Pos}): per
 * replication domain, the last transaction as {@code domain-server-seq}. Within a domain, sequence numbers only
 * grow (gtid_strict_mode), so a higher one contains every lower one; an equal one contains the other only when
 * the same server wrote it.
 *
 * @param writer the {@code server_id} of the primary this position was read from, or null: it tells the
 *     transactions that primary wrote after the position was read from errant ones
 */
record MariaDbGtidPos(SortedMap<Long, Gtid> domains, Long writer) implements GtidSet {
    static final MariaDbGtidPos EMPTY = new MariaDbGtidPos(new TreeMap<>(), null);

    /** One MariaDB GTID. */
    record Gtid(long domain, long server, long seq) {
        @Override
        public String toString() {
            return domain + "-" + server + "-" + seq;
        }
    }

    MariaDbGtidPos {
        domains = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(domains));
    }

    MariaDbGtidPos(SortedMap<Long, Gtid> domains) {
        this(domains, null);
    }

    /** This position as read from the primary whose {@code server_id} is {@code serverId}. */
    MariaDbGtidPos writtenBy(long serverId) {
        return new MariaDbGtidPos(domains, serverId);
    }

    /** Parses {@code 0-1-100,1-2-5}; null or blank is the empty position. Two GTIDs of one domain are refused. */
    static MariaDbGtidPos parse(String text) {
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        TreeMap<Long, Gtid> domains = new TreeMap<>();
        for (String part : text.split(",")) {
            String gtid = part.strip();
            String[] fields = gtid.split("-");
            if (fields.length != 3) {
                throw new IllegalArgumentException(
                        "'" + gtid + "' in '" + text + "' is not a MariaDB GTID (domain-server-seq)");
            }
            try {
                Gtid g = new Gtid(
                        Long.parseUnsignedLong(fields[0]),
                        Long.parseUnsignedLong(fields[1]),
                        Long.parseUnsignedLong(fields[2]));
                if (domains.put(g.domain(), g) != null) {
                    throw new IllegalArgumentException(
                            "'" + text + "' names domain " + g.domain() + " twice; a position has one GTID per domain");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "'" + gtid + "' in '" + text + "' is not a MariaDB GTID (domain-server-seq)", e);
            }
        }
        return new MariaDbGtidPos(domains);
    }

    @Override
    public String text() {
        return domains.values().stream().map(Gtid::toString).collect(Collectors.joining(","));
    }

    @Override
    public boolean isEmpty() {
        return domains.isEmpty();
    }

    @Override
    public boolean contains(GtidSet other) {
        return ((MariaDbGtidPos) same(other)).countNotIn(this) == 0;
    }

    @Override
    public MariaDbGtidPos union(GtidSet other) {
        TreeMap<Long, Gtid> merged = new TreeMap<>(domains);
        for (Gtid g : ((MariaDbGtidPos) same(other)).domains.values()) {
            merged.merge(g.domain(), g, (mine, theirs) -> theirs.seq() > mine.seq() ? theirs : mine);
        }
        return new MariaDbGtidPos(merged);
    }

    @Override
    public long countNotIn(GtidSet other) {
        Map<Long, Gtid> theirs = ((MariaDbGtidPos) same(other)).domains;
        long count = 0;
        for (Gtid mine : domains.values()) {
            Gtid their = theirs.get(mine.domain());
            if (their == null) {
                count += mine.seq();
            } else if (mine.seq() > their.seq()) {
                count += mine.seq() - their.seq();
            } else if (mine.seq() == their.seq() && mine.server() != their.server()) {
                count += 1; // the same number written by two servers: the histories diverged
            }
        }
        return count;
    }

    @Override
    public long errantAgainst(GtidSet primaryLast) {
        MariaDbGtidPos primary = (MariaDbGtidPos) same(primaryLast);
        long count = 0;
        for (Gtid mine : domains.values()) {
            Gtid theirs = primary.domains.get(mine.domain());
            // Beyond the primary's last GTID of a domain, its own later writes carry its server id; without it,
            // the server id of that last GTID is taken for the primary's.
            Long primaryServer = primary.writer != null ? primary.writer : theirs == null ? null : theirs.server();
            boolean primarys = primaryServer != null && mine.server() == primaryServer;
            if (theirs == null) {
                count += primarys ? 0 : mine.seq();
            } else if (mine.seq() > theirs.seq()) {
                count += primarys ? 0 : mine.seq() - theirs.seq();
            } else if (mine.seq() == theirs.seq() && mine.server() != theirs.server()) {
                count += 1;
            }
        }
        return count;
    }

    /** The GTID of {@code domain}, or null. */
    Gtid gtid(long domain) {
        return domains.get(domain);
    }

    private GtidSet same(GtidSet other) {
        GtidSet.requireSameFlavour(this, other);
        return other;
    }
}
