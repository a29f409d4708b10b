package dev.baton.orchestrator.detect;

import java.util.List;

/** What the detector concluded from one topology snapshot. Only {@link PrimaryDead} leads to a failover. */
public sealed interface Verdict {
    /** One line an operator can read. */
    String describe();

    record Healthy(String primary) implements Verdict {
        public String describe() {
            return "primary " + primary + " is healthy";
        }
    }

    /** No primary record yet: publish the one node that is a writable primary. */
    record Bootstrap(String primary) implements Verdict {
        public String describe() {
            return "no primary published yet; " + primary + " is the only primary";
        }
    }

    /** No primary record and no single obvious primary: an operator must decide. */
    record Ambiguous(String reason) implements Verdict {
        public String describe() {
            return reason;
        }
    }

    /** The primary failed some probes, fewer than the threshold. */
    record PrimarySuspect(String primary, int failures, int threshold) implements Verdict {
        public String describe() {
            return "primary " + primary + " failed " + failures + " of " + threshold + " probes";
        }
    }

    /** The orchestrator cannot reach the primary but replicas still stream from it: an alert, never a failover. */
    record PrimaryUnreachableButReplicating(String primary, List<String> streamingReplicas) implements Verdict {
        public String describe() {
            return "primary " + primary + " is unreachable from the orchestrator but "
                    + String.join(", ", streamingReplicas) + " still stream from it: no failover";
        }
    }

    /** The primary looks dead but no replica can confirm it. */
    record PrimaryUnconfirmed(String primary, String reason) implements Verdict {
        public String describe() {
            return "primary " + primary + " is unreachable, but " + reason + ": no failover";
        }
    }

    /**
     * The primary is dead and the replicas confirm it. {@code blockedBy} is non-null when a rule forbids acting.
     * {@code confirmed}: its connections were refused or closed, for the orchestrator and every follower (the process
     * is gone); otherwise it is only silent (hung, or cut off with some clients) and may still take writes from them.
     */
    record PrimaryDead(String primary, String evidence, String blockedBy, boolean confirmed) implements Verdict {
        public PrimaryDead(String primary, String evidence, String blockedBy) {
            this(primary, evidence, blockedBy, true);
        }

        public String describe() {
            return "primary " + primary + " is dead (" + evidence + ")"
                    + (blockedBy == null ? "" : "; automatic failover blocked: " + blockedBy);
        }

        public boolean actionable() {
            return blockedBy == null;
        }
    }

    /** The published primary answers but is in recovery (someone demoted it by hand). */
    record PrimaryNotWritable(String primary) implements Verdict {
        public String describe() {
            return "published primary " + primary + " is running as a replica";
        }
    }
}
