package io.granary.dataset.catalog;

import java.util.Map;

/** Child process for LocalFileLockManagerTest: takes the lock, says so, holds it until killed. */
public final class HoldLock {

    private HoldLock() {}

    public static void main(String[] args) throws Exception {
        LocalFileLockManager locks = new LocalFileLockManager();
        locks.initialize(Map.of());
        if (!locks.acquire(args[0], "child")) {
            System.out.println("failed");
            return;
        }
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
