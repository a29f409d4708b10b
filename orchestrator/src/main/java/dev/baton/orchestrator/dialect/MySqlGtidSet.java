package dev.baton.orchestrator.dialect;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A MySQL GTID set ({@code @@gtid_executed}, {@code Retrieved_Gtid_Set}): per source, the transaction numbers as
 * sorted, merged, inclusive intervals. A source is a server UUID, or {@code uuid:tag} for MySQL 8.4's tagged GTIDs.
 *
 * @param writer the {@code server_uuid} of the primary this set was read from, or null: it tells the
 *     transactions that primary wrote after the set was read from errant ones
 */
record MySqlGtidSet(SortedMap<String, List<Interval>> sources, String writer) implements GtidSet {
    static final MySqlGtidSet EMPTY = new MySqlGtidSet(new TreeMap<>(), null);

    /** Transaction numbers {@code start} to {@code end}, both included. */
    record Interval(long start, long end) {
        Interval {
            if (start < 1 || end < start) {
                throw new IllegalArgumentException(
                        "'" + start + "-" + end + "' is not a GTID interval (1 <= start <= end)");
            }
        }

        long count() {
            return end - start + 1;
        }

        @Override
        public String toString() {
            return start == end ? Long.toString(start) : start + "-" + end;
        }
    }

    MySqlGtidSet {
        TreeMap<String, List<Interval>> normalized = new TreeMap<>();
        sources.forEach((source, intervals) -> {
            List<Interval> merged = merge(intervals);
            if (!merged.isEmpty()) {
                normalized.put(source, merged);
            }
        });
        sources = Collections.unmodifiableSortedMap(normalized);
        writer = writer == null ? null : writer.toLowerCase(Locale.ROOT);
    }

    MySqlGtidSet(SortedMap<String, List<Interval>> sources) {
        this(sources, null);
    }

    /** This set as read from the primary whose {@code server_uuid} is {@code uuid}. */
    MySqlGtidSet writtenBy(String uuid) {
        return new MySqlGtidSet(sources, uuid);
    }

    /** Parses {@code uuid:1-5:7,uuid2:1-3} (whitespace and newlines allowed, tags as {@code uuid:tag:1-3}). */
    static MySqlGtidSet parse(String text) {
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        TreeMap<String, List<Interval>> sources = new TreeMap<>();
        for (String part : text.split(",")) {
            String element = part.replaceAll("\\s", "");
            if (element.isEmpty()) {
                continue;
            }
            String[] fields = element.split(":");
            String uuid = fields[0].toLowerCase(Locale.ROOT);
            if (fields.length < 2 || !uuid.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
                throw new IllegalArgumentException(
                        "'" + element + "' in '" + text.strip() + "' is not a GTID set element (uuid:1-5:7)");
            }
            String source = uuid;
            for (int i = 1; i < fields.length; i++) {
                String field = fields[i];
                if (!field.isEmpty() && Character.isLetter(field.charAt(0))) {
                    source = uuid + ":" + field.toLowerCase(Locale.ROOT);
                    continue;
                }
                sources.computeIfAbsent(source, k -> new ArrayList<>()).add(interval(field, element, text));
            }
        }
        return new MySqlGtidSet(sources);
    }

    private static Interval interval(String field, String element, String text) {
        try {
            int dash = field.indexOf('-');
            return dash < 0
                    ? new Interval(Long.parseLong(field), Long.parseLong(field))
                    : new Interval(Long.parseLong(field.substring(0, dash)), Long.parseLong(field.substring(dash + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "'" + field + "' in '" + element + "' of '" + text.strip() + "' is not a GTID interval (1-5 or 7)",
                    e);
        }
    }

    @Override
    public String text() {
        StringBuilder text = new StringBuilder();
        String lastUuid = null;
        for (Map.Entry<String, List<Interval>> e : sources.entrySet()) {
            String uuid = e.getKey().substring(0, 36);
            if (!uuid.equals(lastUuid)) {
                if (lastUuid != null) {
                    text.append(',');
                }
                text.append(uuid);
                lastUuid = uuid;
            }
            if (e.getKey().length() > 36) {
                text.append(e.getKey().substring(36));
            }
            for (Interval i : e.getValue()) {
                text.append(':').append(i);
            }
        }
        return text.toString();
    }

    @Override
    public boolean isEmpty() {
        return sources.isEmpty();
    }

    /** How many transactions the set holds. */
    long count() {
        long count = 0;
        for (List<Interval> intervals : sources.values()) {
            for (Interval i : intervals) {
                count += i.count();
            }
        }
        return count;
    }

    @Override
    public boolean contains(GtidSet other) {
        return ((MySqlGtidSet) same(other)).minus(this).isEmpty();
    }

    @Override
    public MySqlGtidSet union(GtidSet other) {
        TreeMap<String, List<Interval>> all = new TreeMap<>();
        for (MySqlGtidSet set : List.of(this, (MySqlGtidSet) same(other))) {
            set.sources.forEach((source, intervals) ->
                    all.computeIfAbsent(source, k -> new ArrayList<>()).addAll(intervals));
        }
        return new MySqlGtidSet(all);
    }

    /** The transactions of this set that {@code other} lacks. */
    MySqlGtidSet minus(GtidSet other) {
        Map<String, List<Interval>> theirs = ((MySqlGtidSet) same(other)).sources;
        TreeMap<String, List<Interval>> rest = new TreeMap<>();
        sources.forEach((source, mine) -> rest.put(source, subtract(mine, theirs.getOrDefault(source, List.of()))));
        return new MySqlGtidSet(rest);
    }

    @Override
    public long countNotIn(GtidSet other) {
        return minus(other).count();
    }

    @Override
    public long errantAgainst(GtidSet primaryLast) {
        MySqlGtidSet primary = (MySqlGtidSet) same(primaryLast);
        long count = 0;
        for (Map.Entry<String, List<Interval>> e : minus(primary).sources.entrySet()) {
            List<Interval> primaryHas = primary.sources.get(e.getKey());
            long primaryMax = primaryHas == null
                    ? 0
                    : primaryHas.get(primaryHas.size() - 1).end();
            // Numbers above what the primary had are its own later writes when they carry its UUID; without its
            // UUID, any source it had is taken for its own.
            boolean primarysStream =
                    primary.writer != null ? e.getKey().substring(0, 36).equals(primary.writer) : primaryHas != null;
            for (Interval i : e.getValue()) {
                if (!primarysStream) {
                    count += i.count();
                } else if (i.start() <= primaryMax) {
                    count += Math.min(i.end(), primaryMax) - i.start() + 1;
                }
            }
        }
        return count;
    }

    private static List<Interval> merge(List<Interval> intervals) {
        List<Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparingLong(Interval::start));
        List<Interval> merged = new ArrayList<>();
        for (Interval i : sorted) {
            Interval last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && i.start() <= last.end() + 1) {
                merged.set(merged.size() - 1, new Interval(last.start(), Math.max(last.end(), i.end())));
            } else {
                merged.add(i);
            }
        }
        return List.copyOf(merged);
    }

    private static List<Interval> subtract(List<Interval> mine, List<Interval> theirs) {
        List<Interval> rest = new ArrayList<>();
        for (Interval i : mine) {
            long start = i.start();
            for (Interval t : theirs) {
                if (t.end() < start || t.start() > i.end()) {
                    continue;
                }
                if (t.start() > start) {
                    rest.add(new Interval(start, t.start() - 1));
                }
                start = t.end() + 1;
                if (start > i.end()) {
                    break;
                }
            }
            if (start <= i.end()) {
                rest.add(new Interval(start, i.end()));
            }
        }
        return rest;
    }

    private GtidSet same(GtidSet other) {
        GtidSet.requireSameFlavour(this, other);
        return other;
    }
}
