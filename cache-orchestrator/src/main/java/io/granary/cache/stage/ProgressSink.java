package io.granary.cache.stage;

import io.granary.common.Progress;

/**
 * Where a stage reports its copying: a bar on this terminal, nowhere, or a tracker someone else
 * reads (the daemon streams it to the client that asked).
 */
@FunctionalInterface
public interface ProgressSink {

    ProgressSink TERMINAL = (snapshotKey, files, bytes) -> Progress.start("staging " + snapshotKey, "files", files).withTotalBytes(bytes);
    ProgressSink NONE = (snapshotKey, files, bytes) -> Progress.silent("staging", "files");

    /** Called as copying starts (once per round of copies) with the files and bytes it will copy. */
    Progress start(String snapshotKey, int files, long bytes);

    static ProgressSink of(boolean showProgress) {
        return showProgress ? TERMINAL : NONE;
    }
}
