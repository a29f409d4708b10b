package dev.baton.registry;

import java.util.Base64;

/**
 * A published primary record carried in a node's <em>name</em>, so that a ZooKeeper watch event delivers it with no
 * read.
 *
 * <p>Every publication of the primary record also creates {@code /clusters/<c>/epochs/<name>} in the same
 * transaction as the record's versioned write. The name is the epoch, zero-padded to 19 digits so that names sort
 * by epoch, a dash, and the record's JSON in unpadded base64url. A client with a persistent recursive watch on
 * {@link RegistryPaths#epochs(String)} learns the new primary from the path of the NodeCreated event: on a change,
 * 1,000 clients cost ZooKeeper 1,000 notifications, not 1,000 notifications followed by 1,000 reads of the record.
 *
 * <p>The primary record stays the authority. The node exists only for a record that was published (same
 * transaction), and a client still reads the record itself when it (re)connects and whenever the record changes
 * without an epoch node alongside.
 */
public final class EpochNode {
    private static final int EPOCH_DIGITS = 19;
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private EpochNode() {}

    /** The node name that carries {@code record}. */
    public static String name(PrimaryRecord record) {
        return String.format("%0" + EPOCH_DIGITS + "d", record.epoch()) + "-"
                + ENCODER.encodeToString(RegistryJson.write(record));
    }

    /**
     * The record a node name carries.
     *
     * @throws IllegalArgumentException naming what is wrong, when {@code name} is not an epoch node's name or the
     *     epoch in front disagrees with the record's
     */
    public static PrimaryRecord parse(String name) {
        int dash = name.indexOf('-');
        if (dash != EPOCH_DIGITS) {
            throw new IllegalArgumentException("epoch node name " + shown(name) + " does not start with a "
                    + EPOCH_DIGITS + "-digit epoch and a dash");
        }
        long epoch;
        byte[] json;
        try {
            epoch = Long.parseLong(name.substring(0, dash));
            json = Base64.getUrlDecoder().decode(name.substring(dash + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("epoch node name " + shown(name) + " is not an epoch and base64url");
        }
        PrimaryRecord record = RegistryJson.read(json, PrimaryRecord.class);
        if (record.epoch() != epoch) {
            throw new IllegalArgumentException(
                    "epoch node name " + shown(name) + " says epoch " + epoch + " but carries epoch " + record.epoch());
        }
        return record;
    }

    /** The epoch in front of a node name, or -1 when {@code name} is not an epoch node's name. */
    public static long epoch(String name) {
        if (name.length() <= EPOCH_DIGITS || name.charAt(EPOCH_DIGITS) != '-') {
            return -1;
        }
        for (int i = 0; i < EPOCH_DIGITS; i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(name.substring(0, EPOCH_DIGITS));
    }

    private static String shown(String name) {
        return RegistryJson.quote(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
