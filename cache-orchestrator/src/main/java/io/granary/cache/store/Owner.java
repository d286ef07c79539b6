package io.granary.cache.store;

import java.util.Optional;
import java.util.UUID;

/**
 * Who holds a pin or a reservation: a process (gone when it dies, even by kill -9) or nobody
 * in particular (a mount, which lasts until it is unmounted).
 *
 * @param pid the holding process, or -1 for a hold that outlives processes
 * @param startMillis when that process started, so a reused pid is not mistaken for it
 * @param token tells apart holders inside one process
 */
public record Owner(long pid, long startMillis, String token) {

    private static final ProcessHandle SELF = ProcessHandle.current();

    /** A new holder in this process. */
    public static Owner thisProcess() {
        return new Owner(SELF.pid(), startOf(SELF), UUID.randomUUID().toString());
    }

    /** A hold that lasts until it is released (mounts). */
    public static Owner persistent(String token) {
        return new Owner(-1, -1, token);
    }

    public boolean persistentHold() {
        return pid < 0;
    }

    /** Whether the holder still runs (persistent holds always do). */
    public boolean alive() {
        if (persistentHold()) {
            return true;
        }
        if (pid == SELF.pid()) {
            return true;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        return process.isPresent() && process.get().isAlive() && startOf(process.get()) == startMillis;
    }

    private static long startOf(ProcessHandle process) {
        // whole seconds: /proc gives the start time in clock ticks, and two reads may round apart
        return process.info().startInstant().map(start -> start.getEpochSecond() * 1000).orElse(-1L);
    }
}
