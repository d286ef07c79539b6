package io.granary.cache;

import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.dataset.DatasetRef;
import java.nio.file.Path;
import java.util.List;

/** The cache used in this process: what the CLI does when no daemon runs. */
public final class InProcessCache implements CacheAccess {

    private final NodeCache cache;

    public InProcessCache(NodeCache cache) {
        this.cache = cache;
    }

    public NodeCache cache() {
        return cache;
    }

    @Override
    public String where() {
        return "in process";
    }

    private int parallel(int requested) {
        return requested > 0 ? requested : cache.settings().parallel();
    }

    @Override
    public StageResult stage(DatasetRef ref, int parallel, boolean showProgress) {
        return cache.stage(ref, parallel(parallel), showProgress);
    }

    @Override
    public Mounts.MountResult mount(DatasetRef ref, Path target, int parallel, boolean showProgress) {
        return new Mounts(cache).mount(ref, target, parallel(parallel), showProgress);
    }

    @Override
    public String umount(Path target) {
        return new Mounts(cache).umount(target).snapshotKey();
    }

    @Override
    public CacheStatus status() {
        return cache.status();
    }

    @Override
    public NodeCache.EvictResult evict(DatasetRef ref) {
        return cache.evict(ref);
    }

    @Override
    public NodeCache.VerifyResult verify(int parallel) {
        return cache.verify(parallel(parallel));
    }

    @Override
    public NodeCache.GcResult gc() {
        return cache.gc();
    }

    @Override
    public List<CacheJobs.Job> jobs() {
        return new CacheJobs(cache.settings().root()).list().stream().map(CacheJobs.Job::settled).toList();
    }

    @Override
    public void close() {
        cache.close();
    }
}
