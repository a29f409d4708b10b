package dev.baton.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The rows of the fault matrix (issue 9): what is done to the cluster, what should follow, and how many new
 * primaries may be published (more count as false failovers). Each case's body injects the fault into a running
 * {@link MatrixRun}, waits for what should happen and heals what it cut; the run checks the data afterwards.
 */
enum MatrixCase {
    PRIMARY_SIGKILL(
            "primary-sigkill", "primary SIGKILL", "one promotion; nothing lost that a replica had received", 1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.fault();
            r.node(r.primary()).kill();
            r.awaitEpoch(2, Duration.ofSeconds(30));
            Thread.sleep(3000);
        }
    },
    PRIMARY_SIGSTOP(
            "primary-sigstop",
            "primary SIGSTOP, SIGCONT 5 s after the new primary is published",
            "one promotion; old primary fenced when it wakes; accepts nothing",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String old = r.primary();
            r.fault();
            r.node(old).pause();
            try {
                r.awaitEpoch(2, Duration.ofSeconds(30));
                Thread.sleep(5000);
            } finally {
                r.node(old).resume();
            }
            long fenced = r.awaitReadOnly(old, Duration.ofSeconds(20));
            r.notes.add(
                    fenced < 0
                            ? old + " not fenced within 20 s of SIGCONT"
                            : old + " fenced " + fenced + " ms after SIGCONT");
            Thread.sleep(2000);
        }
    },
    ORCHESTRATOR_LINK_CUT(
            "orchestrator-link-cut",
            "orchestrator-primary link cut for 15 s, replicas streaming, apps writing",
            "no failover",
            0) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.fault();
            r.cutFront(r.primary(), false);
            Thread.sleep(15_000);
            r.healAll();
            Thread.sleep(3000);
        }
    },
    PRIMARY_PARTITIONED(
            "primary-partitioned",
            "primary cut off from orchestrator, replicas, ZooKeeper and app B for 20 s; app A on its side",
            "one promotion; app A commits nothing on the old primary after its lease; 0 split-brain writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.DROP, () -> {});
        }
    },
    PRIMARY_PARTITIONED_STALE_FOLLOWER(
            "primary-partitioned-stale-follower",
            "like primary-partitioned, but app A keeps its only ZooKeeper server: a follower of a 3-server ensemble,"
                    + " cut off from the other two, that goes on answering plain reads for about 10 s",
            "one promotion, after app A's lease (renewed only by sync() then read, it runs out); 0 split-brain writes",
            1) {
        @Override
        int zooKeeperServers() {
            return 3;
        }

        @Override
        boolean partitionableZooKeeper() {
            return true;
        }

        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.STALE_FOLLOWER, () -> {});
        }
    },
    PRIMARY_PARTITIONED_CLOCK_STEP(
            "primary-partitioned-clock-step",
            "like primary-partitioned, and the orchestrator's wall clock stepped 1 h forward once the wrappers are"
                    + " held (an NTP step)",
            "one promotion, still only after app A's lease (the wait is monotonic); 0 split-brain writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.DROP, () -> {
                long held = r.awaitUnconfirmedHold(Duration.ofSeconds(30));
                if (held >= 0) {
                    r.clock.step(Duration.ofHours(1));
                    r.notes.add("wall clock stepped +1 h " + held + " ms after the fault, at the hold");
                }
            });
        }
    },
    PRIMARY_ONE_SLOW_PROBE(
            "primary-one-slow-probe",
            "primary SIGSTOP, SIGCONT as soon as the orchestrator's first probe of it failed (one slow probe); a"
                    + " fence command configured",
            "nothing: no hold, no fence command, no failover, no failed write",
            0) {
        @Override
        boolean fenceCommand() {
            return true;
        }

        @Override
        void inject(MatrixRun r) throws Exception {
            String old = r.primary();
            java.util.concurrent.CompletableFuture<String> resumed = new java.util.concurrent.CompletableFuture<>();
            r.onEvent = e -> {
                if (old.equals(e.node()) && !resumed.isDone()) {
                    r.node(old).resume(); // on the orchestrator's thread: before its next probe
                    resumed.complete(e.kind() + " " + r.sinceFaultMs() + " ms after SIGSTOP");
                }
            };
            r.fault();
            r.node(old).pause();
            try {
                r.notes.add("SIGCONT at the first report: " + resumed.get(30, TimeUnit.SECONDS));
            } finally {
                r.node(old).resume();
                r.onEvent = e -> {};
            }
            r.awaitUnconfirmedHold(Duration.ofSeconds(5));
            r.notes.add("fence command " + (r.fenceCommandRan() ? "RAN" : "did not run"));
            r.notes.add("events: "
                    + r.events.stream()
                            .filter(e -> old.equals(e.node()))
                            .map(e -> e.kind().toString())
                            .distinct()
                            .toList());
        }
    },
    PROMOTE_REPLY_LOST(
            "promote-reply-lost",
            "primary SIGKILL; the reply to the candidate's promotion request is lost (the server runs it: pg_promote,"
                    + " or MariaDB's SET GLOBAL read_only = OFF)",
            "one promotion: the record of the promotion under way is kept, no second node is promoted; 0 split-brain"
                    + " writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String text = r.scenario.cluster().dialect().equals("postgresql") ? "pg_promote(" : "read_only = OFF";
            List<String> candidates = r.replicas();
            candidates.forEach(n -> r.scenario
                    .front(n)
                    .dropRepliesAfter(text, Set.of(MatrixApps.address(MatrixApps.ORCHESTRATOR_ADDRESS))));
            r.fault();
            r.node(r.primary()).kill();
            try {
                r.awaitEpoch(2, Duration.ofSeconds(60));
                r.notes.add("promotion reply dropped on "
                        + candidates.stream()
                                .filter(n -> r.scenario.front(n).replyDropped())
                                .toList());
                Thread.sleep(3000);
            } finally {
                r.healAll();
            }
            r.noteFollowers();
        }
    },
    PRIMARY_PARTITIONED_RESET(
            "primary-partitioned-reset",
            "like primary-partitioned, but the cut answers with TCP resets (a rejecting firewall): it looks like a"
                    + " crash",
            "one promotion, after app A's lease (it cannot acknowledge the hold); 0 split-brain writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.RESET, () -> {});
        }
    },
    PRIMARY_PARTITIONED_AGENT(
            "primary-partitioned-agent",
            "like primary-partitioned, with a baton agent beside every node (the primary's cut off with it), and app A"
                    + " also writing through plain JDBC (not the wrapper) to the old primary's address",
            "one promotion, after the agent's lease; the agent kills its server first; 0 split-brain writes, the plain"
                    + " client's too",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.DROP, () -> {});
        }

        @Override
        boolean agents() {
            return true;
        }
    },
    PRIMARY_PARTITIONED_RESET_AGENT(
            "primary-partitioned-reset-agent",
            "like primary-partitioned-agent, but the cut answers with TCP resets (a rejecting firewall)",
            "one promotion, after the agent's lease; the agent kills its server first; 0 split-brain writes, the plain"
                    + " client's too",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.partitionPrimary(MatrixRun.Cut.RESET, () -> {});
        }

        @Override
        boolean agents() {
            return true;
        }
    },
    PRIMARY_SIGKILL_RESTARTED(
            "primary-sigkill-restarted",
            "primary SIGKILL and started again at once (a service manager's Restart=on-failure)",
            "one promotion and the restarted old primary fenced, or none when it was back first; 0 split-brain writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String old = r.primary();
            r.fault();
            r.node(old).kill();
            r.node(old).start();
            r.notes.add(old + " accepting connections again " + r.sinceFaultMs() + " ms after the kill");
            if (r.awaitEpoch(2, Duration.ofSeconds(30))) {
                long fenced = r.awaitReadOnly(old, Duration.ofSeconds(20));
                r.notes.add(fenced < 0 ? old + " not fenced within 20 s" : old + " read-only after the failover");
            } else {
                r.notes.add("no failover: " + old + " was back before it was declared dead");
            }
            Thread.sleep(3000);
        }
    },
    PRIMARY_HELD_PAST_HOLD_TIMEOUT(
            "primary-held-past-hold-timeout",
            "primary cut off from orchestrator, replicas and app B (app A keeps it and ZooKeeper); the cluster paused"
                    + " once the wrappers are held, resumed 25 s later (a borrow and its first statement each wait"
                    + " holdTimeout, 10 s)",
            "one promotion; app A never goes back to the held primary: 0 writes acknowledged there once the hold"
                    + " reached the wrappers (200 ms)",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String old = r.primary();
            r.fault();
            r.cutFront(old, true);
            r.scenario.replication(old).blackhole();
            try {
                long held = r.awaitUnconfirmedHold(Duration.ofSeconds(30));
                if (held < 0) {
                    return;
                }
                r.pauseCommand(true); // a failover held back (backoff, veto, a candidate that cannot catch up)
                long pausedAt = System.nanoTime();
                Thread.sleep(25_000);
                r.pauseCommand(false);
                r.notes.add(
                        "held at " + held + " ms, paused for " + (System.nanoTime() - pausedAt) / 1_000_000 + " ms");
                r.awaitEpoch(2, Duration.ofSeconds(30));
                Thread.sleep(5000); // the other replica is repointed before the partition heals
            } finally {
                r.healAll();
            }
            r.notes.add(r.acknowledgedOnAfterHold(old) + " writes acknowledged by " + old + " after the hold");
            Thread.sleep(3000);
        }
    },
    LEADER_KILLED_UNCONFIRMED_HOLD(
            "leader-sigkill-unconfirmed-hold",
            "primary SIGSTOP; leader orchestrator SIGKILLed once the wrappers are held",
            "the standby continues the hold and fails over once; 0 split-brain writes",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.awaitTwoOrchestrators();
            String old = r.primary();
            r.fault();
            r.node(old).pause();
            try {
                long held = r.awaitUnconfirmedHold(Duration.ofSeconds(30));
                if (held >= 0) {
                    r.notes.add("SIGKILL to leader " + r.killLeader(false) + " " + held + " ms after the fault,"
                            + " once the hold was written");
                }
                r.awaitEpoch(2, Duration.ofSeconds(60));
                Thread.sleep(3000);
            } finally {
                r.node(old).resume();
            }
            long fenced = r.awaitReadOnly(old, Duration.ofSeconds(20));
            r.notes.add(fenced < 0 ? old + " not fenced within 20 s of SIGCONT" : old + " fenced after SIGCONT");
            Thread.sleep(2000);
        }
    },
    REPLICA_SIGKILL("replica-sigkill", "a replica SIGKILLed", "no failover; it is reported and excluded", 0) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String replica = r.replicas().get(1);
            r.fault();
            r.node(replica).kill();
            Thread.sleep(10_000);
            r.notes.add(replica + " in ZooKeeper: " + r.nodeStateOf(replica));
        }
    },
    ZOOKEEPER_ONE_KILLED(
            "zk-one-of-three-killed", "one of three ZooKeeper servers killed", "nothing changes for applications", 0) {
        @Override
        int zooKeeperServers() {
            return 3;
        }

        @Override
        void inject(MatrixRun r) throws Exception {
            r.fault();
            r.scenario.ensemble().stop(0);
            Thread.sleep(10_000);
        }
    },
    ZOOKEEPER_QUORUM_LOST(
            "zk-quorum-lost-30s",
            "two of three ZooKeeper servers stopped for 30 s",
            "no failover; applications behave as documented",
            0) {
        @Override
        int zooKeeperServers() {
            return 3;
        }

        @Override
        void inject(MatrixRun r) throws Exception {
            r.fault();
            r.scenario.ensemble().stop(0);
            r.scenario.ensemble().stop(1);
            try {
                Thread.sleep(30_000);
            } finally {
                r.scenario.ensemble().restart(0);
                r.scenario.ensemble().restart(1);
            }
            Thread.sleep(8000);
        }
    },
    LEADER_KILLED_FAILOVER_STARTED(
            "leader-sigkill-failover-started",
            "primary SIGKILL; leader orchestrator SIGKILLed once the failover is recorded",
            "the standby finishes or rolls back; one writable primary",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringFailover(r, "started", false);
        }
    },
    LEADER_KILLED_FAILOVER_PROMOTING(
            "leader-sigkill-failover-promoting",
            "primary SIGKILL; leader orchestrator SIGKILLed once it asked a replica to promote",
            "the standby finishes; one writable primary",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringFailover(r, "promoting", false);
        }
    },
    LEADER_KILLED_FAILOVER_PUBLISHED(
            "leader-sigkill-failover-published",
            "primary SIGKILL; leader orchestrator SIGKILLed right after it published (before repointing)",
            "the standby repoints; one writable primary",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringFailover(r, "published", false);
        }
    },
    LEADER_TERMINATED_FAILOVER(
            "leader-sigterm-failover",
            "primary SIGKILL; leader orchestrator SIGTERMed once it asked a replica to promote",
            "the same as SIGKILL",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringFailover(r, "promoting", true);
        }
    },
    LEADER_KILLED_SWITCHOVER_STARTED(
            "leader-sigkill-switchover-started",
            "switchover; leader orchestrator SIGKILLed once it is recorded",
            "the standby rolls back or finishes; 0 acknowledged writes lost",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringSwitchover(r, "started");
        }
    },
    LEADER_KILLED_SWITCHOVER_FENCED(
            "leader-sigkill-switchover-fenced",
            "switchover; leader orchestrator SIGKILLed once the old primary is fenced",
            "the standby rolls back (unfences) or finishes; 0 acknowledged writes lost",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringSwitchover(r, "fenced");
        }
    },
    LEADER_KILLED_SWITCHOVER_PROMOTING(
            "leader-sigkill-switchover-promoting",
            "switchover; leader orchestrator SIGKILLed once it asked the target to promote",
            "the standby finishes; 0 acknowledged writes lost",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringSwitchover(r, "promoting");
        }
    },
    LEADER_KILLED_SWITCHOVER_PUBLISHED(
            "leader-sigkill-switchover-published",
            "switchover; leader orchestrator SIGKILLed right after it published",
            "the standby repoints the others; 0 acknowledged writes lost",
            1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            killLeaderDuringSwitchover(r, "published");
        }
    },
    SWITCHOVER("switchover", "planned switchover", "0 acknowledged writes lost; no application error", 1) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String to = r.replicas().get(0);
            r.fault();
            r.notes.add("switchover: " + r.switchover(to).get(90, TimeUnit.SECONDS));
            Thread.sleep(3000);
            r.noteFollowers();
        }
    },
    PRIMARY_KILLED_AGAIN(
            "primary-sigkill-twice",
            "primary SIGKILL, then the new primary SIGKILLed as soon as it is published",
            "the anti-flap window (30 s) is respected and reported",
            2) {
        @Override
        void inject(MatrixRun r) throws Exception {
            r.node(r.primary()).kill();
            if (!r.awaitEpoch(2, Duration.ofSeconds(30))) {
                return;
            }
            long first = r.watch.newest().seenNanos();
            r.fault();
            r.node(r.primary()).kill();
            boolean second = r.awaitEpoch(3, Duration.ofSeconds(60));
            if (second) {
                long after = (r.watch.newest().seenNanos() - first) / 1_000_000;
                r.notes.add("second promotion " + after + " ms after the first (anti-flap window 30000 ms: "
                        + (after >= 30_000 ? "respected" : "VIOLATED") + ")");
            }
            Thread.sleep(3000);
        }
    },
    SWITCHOVER_REPOINT_FAILS(
            "switchover-repoint-fails",
            "switchover while the orchestrator's link to the other replica is cut; healed; the new primary SIGKILLed"
                    + " later",
            "the replica is repaired; the later crash still fails over",
            2) {
        @Override
        void inject(MatrixRun r) throws Exception {
            String to = r.replicas().get(0);
            String other = r.replicas().get(1);
            CompletableFuture<String> command = r.switchover(to);
            r.awaitPhase("promoting", Duration.ofSeconds(30));
            r.cutFront(other, false);
            r.awaitEpoch(2, Duration.ofSeconds(60));
            Thread.sleep(15_000); // longer than a repoint waits: it fails rather than waits for the heal
            r.healAll();
            r.notes.add("switchover: " + command.get(90, TimeUnit.SECONDS));
            long healed = System.nanoTime();
            boolean repaired = r.awaitFollowing(other, Duration.ofSeconds(40));
            r.notes.add(
                    repaired
                            ? other + " follows " + to + " " + (System.nanoTime() - healed) / 1_000_000
                                    + " ms after the heal"
                            : other + " not repaired within 40 s of the heal");
            r.fault();
            r.node(to).kill();
            r.awaitEpoch(3, Duration.ofSeconds(60));
            Thread.sleep(3000);
            r.noteFollowers();
        }
    },
    TWO_FAILOVERS(
            "two-failovers",
            "primary SIGKILL, and once failed over (after the anti-flap window) the new primary SIGKILL; 3 replicas",
            "every survivor follows the last primary",
            2) {
        @Override
        int replicas() {
            return 3;
        }

        @Override
        void inject(MatrixRun r) throws Exception {
            r.node(r.primary()).kill();
            if (!r.awaitEpoch(2, Duration.ofSeconds(30))) {
                return;
            }
            Thread.sleep(31_000); // past the anti-flap window
            r.fault();
            r.node(r.primary()).kill();
            r.awaitEpoch(3, Duration.ofSeconds(30));
            Thread.sleep(5000);
            r.noteFollowers();
        }
    };

    private final String id;
    private final String fault;
    private final String expected;
    private final int maxPromotions;

    MatrixCase(String id, String fault, String expected, int maxPromotions) {
        this.id = id;
        this.fault = fault;
        this.expected = expected;
        this.maxPromotions = maxPromotions;
    }

    abstract void inject(MatrixRun run) throws Exception;

    String id() {
        return id;
    }

    String fault() {
        return fault;
    }

    String expected() {
        return expected;
    }

    /** New primaries the case may publish; more are false failovers. */
    int maxPromotions() {
        return maxPromotions;
    }

    /**
     * New primaries the case must publish: as many as it may, except when a switchover's leader dies (a new leader
     * may roll the switchover back).
     */
    int minPromotions() {
        // A restart faster than the detection is no failover at all, and that is right too.
        return id.startsWith("leader-sigkill-switchover") || id.equals("primary-sigkill-restarted") ? 0 : maxPromotions;
    }

    int zooKeeperServers() {
        return 1;
    }

    /** Whether the 3 ZooKeeper servers are a {@code PartitionableEnsemble}, app A talking to one follower alone. */
    boolean partitionableZooKeeper() {
        return false;
    }

    /** Whether the cluster has a fence command (it leaves a marker when it runs). */
    boolean fenceCommand() {
        return false;
    }

    int replicas() {
        return 2;
    }

    /**
     * Whether a {@code baton agent} (fence: stop) runs beside every node, the initial primary's on app A's path to
     * ZooKeeper, and app A also writes through plain JDBC to the initial primary's address: a client the wrapper does
     * not fence. {@code BATON_MATRIX_NO_AGENTS=1} in the environment leaves the agents out (the plain client stays),
     * to measure what the agent prevents.
     */
    boolean agents() {
        return false;
    }

    /** Whether the case runs two real {@code baton run} processes instead of one orchestrator in the bench. */
    boolean processes() {
        return id.startsWith("leader-");
    }

    /** The cases whose id starts with one of {@code prefixes} (all when empty). */
    static List<MatrixCase> matching(List<String> prefixes) {
        return Arrays.stream(values())
                .filter(c -> prefixes.isEmpty() || prefixes.stream().anyMatch(p -> c.id.startsWith(p)))
                .toList();
    }

    private static void killLeaderDuringFailover(MatrixRun r, String phase, boolean term) throws Exception {
        r.awaitTwoOrchestrators();
        r.fault();
        r.node(r.primary()).kill();
        r.killLeaderAt(phase, 1, term, Duration.ofSeconds(30));
        r.awaitEpoch(2, Duration.ofSeconds(60));
        r.awaitNoOperation(Duration.ofSeconds(30));
        Thread.sleep(3000);
        r.noteFollowers();
    }

    private static void killLeaderDuringSwitchover(MatrixRun r, String phase) throws Exception {
        r.awaitTwoOrchestrators();
        String to = r.replicas().get(0);
        r.fault();
        CompletableFuture<String> command = r.switchover(to);
        r.killLeaderAt(phase, 1, false, Duration.ofSeconds(30));
        r.awaitNoOperation(Duration.ofSeconds(60));
        try {
            r.notes.add("switchover: " + command.get(90, TimeUnit.SECONDS));
        } catch (java.util.concurrent.ExecutionException e) {
            r.notes.add("switchover: " + e.getCause());
        }
        Thread.sleep(3000);
        r.noteFollowers();
    }
}
