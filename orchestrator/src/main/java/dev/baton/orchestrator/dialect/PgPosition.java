package dev.baton.orchestrator.dialect;

import dev.baton.orchestrator.topology.Position;

/** A PostgreSQL WAL position: the timeline and the LSN as a 64-bit number. */
record PgPosition(long timeline, long lsn) implements Position {
    static PgPosition of(long timeline, String lsn) {
        return lsn == null ? null : new PgPosition(timeline, parseLsn(lsn));
    }

    static long parseLsn(String lsn) {
        int slash = lsn.indexOf('/');
        if (slash < 1) {
            throw new IllegalArgumentException("'" + lsn + "' is not an LSN (X/Y in hexadecimal)");
        }
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    static String formatLsn(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** Reads back {@link #text()}; null when {@code text} is not in that form. */
    static PgPosition parse(String text) {
        if (text == null) {
            return null;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}) \\(timeline ([0-9]{1,10})\\)")
                .matcher(text.strip());
        return m.matches() ? new PgPosition(Long.parseLong(m.group(2)), parseLsn(m.group(1))) : null;
    }

    @Override
    public String text() {
        return formatLsn(lsn) + " (timeline " + timeline + ")";
    }
}
