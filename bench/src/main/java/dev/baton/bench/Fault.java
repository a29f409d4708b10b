package dev.baton.bench;

import dev.baton.sandbox.SandboxNode;

/**
 * What happens to the primary in a failover run, and DESIGN.md's target for the time from the fault to the first
 * write committed on another node: it crashes (SIGKILL of its whole process tree, like a host going down), or it
 * hangs (SIGSTOP of its whole process tree: connections stay open, nothing answers) until it is woken up again.
 */
public enum Fault {
    CRASH("SIGKILL", "kill -9", 1000, 2000, 300, 600) {
        @Override
        void inject(SandboxNode primary) {
            primary.kill();
        }

        @Override
        boolean wakeUp(SandboxNode primary) {
            return false; // a crashed server stays down
        }
    },
    HANG("SIGSTOP", "SIGSTOP", 5000, 5000, 2000, 2000) {
        @Override
        void inject(SandboxNode primary) {
            primary.pause();
        }

        @Override
        boolean wakeUp(SandboxNode primary) {
            if (!primary.isRunning()) {
                return false; // its agent killed it (killHungServer)
            }
            primary.resume();
            return true;
        }
    };

    private final String signal;
    private final String verb;
    private final long medianTargetMs;
    private final long maxTargetMs;

    /** The same targets with an agent on every node (DESIGN.md's next level). */
    private final long agentMedianTargetMs;

    private final long agentMaxTargetMs;

    Fault(
            String signal,
            String verb,
            long medianTargetMs,
            long maxTargetMs,
            long agentMedianTargetMs,
            long agentMaxTargetMs) {
        this.signal = signal;
        this.verb = verb;
        this.medianTargetMs = medianTargetMs;
        this.maxTargetMs = maxTargetMs;
        this.agentMedianTargetMs = agentMedianTargetMs;
        this.agentMaxTargetMs = agentMaxTargetMs;
    }

    /** Fault to first write with agents: the median must stay under this. */
    long medianTargetMs(boolean agents) {
        return agents ? agentMedianTargetMs : medianTargetMs;
    }

    /** Fault to first write with agents: every run must stay under this. */
    long maxTargetMs(boolean agents) {
        return agents ? agentMaxTargetMs : maxTargetMs;
    }

    abstract void inject(SandboxNode primary);

    /** Undoes the fault where that is possible (SIGCONT); returns whether the old primary runs again. */
    abstract boolean wakeUp(SandboxNode primary);

    /** The signal sent to the primary's process tree. */
    public String signal() {
        return signal;
    }

    /** How a line of output names the moment of the fault ("kill -9 to first committed write"). */
    public String verb() {
        return verb;
    }

    /** Fault to first write on another node: the median must stay under this. */
    long medianTargetMs() {
        return medianTargetMs;
    }

    /** Fault to first write on another node: every run must stay under this. */
    long maxTargetMs() {
        return maxTargetMs;
    }
}
