package io.granary.cache;

import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.dataset.DatasetRef;
import java.nio.file.Path;
import java.util.List;

/**
 * How a command reaches the node's cache: in this process ({@link InProcessCache}), or through
 * the node's daemon ({@link io.granary.cache.daemon.DaemonClient}). Both give the same answers
 * and the same errors. {@code parallel} 0 means the cache's own setting.
 */
public interface CacheAccess extends AutoCloseable {

    /** "in process" or "daemon at HOST:PORT", for messages. */
    String where();

    StageResult stage(DatasetRef ref, int parallel, boolean showProgress);

    Mounts.MountResult mount(DatasetRef ref, Path target, int parallel, boolean showProgress);

    /** Removes a view and unpins its snapshot; returns the snapshot's key. */
    String umount(Path target);

    CacheStatus status();

    NodeCache.EvictResult evict(DatasetRef ref);

    NodeCache.VerifyResult verify(int parallel);

    NodeCache.GcResult gc();

    /** Background stages, the newest first. */
    List<CacheJobs.Job> jobs();

    @Override
    void close();
}
