package io.granary.cache.daemon;

import io.granary.cache.CacheStatus;
import io.granary.cache.NodeCache;
import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.cache.store.EvictionPolicy;
import io.granary.proto.cache.v1.EvictResponse;
import io.granary.proto.cache.v1.GcResponse;
import io.granary.proto.cache.v1.Job;
import io.granary.proto.cache.v1.MountResult;
import io.granary.proto.cache.v1.SnapshotStatus;
import io.granary.proto.cache.v1.VerifyResponse;
import java.nio.file.Path;
import java.time.Duration;

/** Granary's cache records to and from their messages in granary/cache/v1/cache.proto. */
final class Protos {

    private Protos() {}

    static io.granary.proto.cache.v1.StageResult toProto(StageResult result) {
        return io.granary.proto.cache.v1.StageResult.newBuilder()
                .setSnapshotKey(result.snapshotKey()).setFiles(result.files()).setBytes(result.bytes())
                .setFilesCopied(result.filesCopied()).setBytesCopied(result.bytesCopied()).setFilesCached(result.filesCached())
                .setEvicted(result.evicted()).setBytesEvicted(result.bytesEvicted()).setElapsedNanos(result.elapsed().toNanos())
                .build();
    }

    static StageResult fromProto(io.granary.proto.cache.v1.StageResult result) {
        return new StageResult(result.getSnapshotKey(), result.getFiles(), result.getBytes(), result.getFilesCopied(), result.getBytesCopied(),
                result.getFilesCached(), result.getEvicted(), result.getBytesEvicted(), Duration.ofNanos(result.getElapsedNanos()));
    }

    static MountResult toProto(Mounts.MountResult result) {
        return MountResult.newBuilder().setTarget(result.target().toString()).setSnapshotKey(result.snapshotKey())
                .setFiles(result.files()).setBytes(result.bytes()).setLinkKind(result.linkKind()).setStage(toProto(result.stage()))
                .build();
    }

    static Mounts.MountResult fromProto(MountResult result) {
        return new Mounts.MountResult(Path.of(result.getTarget()), result.getSnapshotKey(), result.getFiles(), result.getBytes(),
                result.getLinkKind(), fromProto(result.getStage()));
    }

    static io.granary.proto.cache.v1.CacheStatus toProto(CacheStatus status) {
        io.granary.proto.cache.v1.CacheStatus.Builder out = io.granary.proto.cache.v1.CacheStatus.newBuilder()
                .setRoot(status.root()).setQuota(status.quota()).setHighWatermark(status.highWatermark())
                .setLowWatermark(status.lowWatermark()).setPolicy(status.policy().name()).setUsedBytes(status.usedBytes())
                .setReservedBytes(status.reservedBytes()).setEntries(status.entries());
        for (CacheStatus.SnapshotStatus snapshot : status.snapshots()) {
            out.addSnapshots(SnapshotStatus.newBuilder().setKey(snapshot.key()).setKind(snapshot.kind()).setFiles(snapshot.files())
                    .setBytes(snapshot.bytes()).setCachedFiles(snapshot.cachedFiles()).setCachedBytes(snapshot.cachedBytes())
                    .addAllPinnedBy(snapshot.pinnedBy()).setStagedMillis(snapshot.stagedMillis()).setLastUsedMillis(snapshot.lastUsedMillis()));
        }
        return out.build();
    }

    static CacheStatus fromProto(io.granary.proto.cache.v1.CacheStatus status) {
        return new CacheStatus(status.getRoot(), status.getQuota(), status.getHighWatermark(), status.getLowWatermark(),
                EvictionPolicy.valueOf(status.getPolicy()), status.getUsedBytes(), status.getReservedBytes(), status.getEntries(),
                status.getSnapshotsList().stream().map(s -> new CacheStatus.SnapshotStatus(s.getKey(), s.getKind(), s.getFiles(), s.getBytes(),
                        s.getCachedFiles(), s.getCachedBytes(), s.getPinnedByList(), s.getStagedMillis(), s.getLastUsedMillis())).toList());
    }

    static EvictResponse toProto(NodeCache.EvictResult result) {
        return EvictResponse.newBuilder().setSnapshotKey(result.snapshotKey()).setEntries(result.entries()).setBytes(result.bytes())
                .setKept(result.kept()).build();
    }

    static NodeCache.EvictResult fromProto(EvictResponse result) {
        return new NodeCache.EvictResult(result.getSnapshotKey(), result.getEntries(), result.getBytes(), result.getKept());
    }

    static VerifyResponse toProto(NodeCache.VerifyResult result) {
        return VerifyResponse.newBuilder().setChecked(result.checked()).setBytes(result.bytes()).addAllDamaged(result.damaged()).build();
    }

    static NodeCache.VerifyResult fromProto(VerifyResponse result) {
        return new NodeCache.VerifyResult(result.getChecked(), result.getBytes(), result.getDamagedList());
    }

    static GcResponse toProto(NodeCache.GcResult result) {
        return GcResponse.newBuilder().setOrphanFiles(result.orphanFiles()).setTemporaries(result.temporaries())
                .setStaleSnapshots(result.staleSnapshots()).setDeadHolds(result.deadHolds()).build();
    }

    static NodeCache.GcResult fromProto(GcResponse result) {
        return new NodeCache.GcResult(result.getOrphanFiles(), result.getTemporaries(), result.getStaleSnapshots(), result.getDeadHolds());
    }

    static Job toProto(CacheJobs.Job job) {
        return Job.newBuilder().setId(job.id()).setRef(job.ref()).setSnapshotKey(job.snapshotKey()).setPid(job.pid())
                .setStartedMillis(job.startedMillis()).setState(job.state()).setMessage(job.message())
                .setUpdatedMillis(job.updatedMillis()).build();
    }

    static CacheJobs.Job fromProto(Job job) {
        return new CacheJobs.Job(job.getId(), job.getRef(), job.getSnapshotKey(), job.getPid(), job.getStartedMillis(), job.getState(),
                job.getMessage(), job.getUpdatedMillis());
    }
}
