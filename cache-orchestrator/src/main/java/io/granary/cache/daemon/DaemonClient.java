package io.granary.cache.daemon;

import io.granary.cache.CacheAccess;
import io.granary.cache.CacheStatus;
import io.granary.cache.NodeCache;
import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.common.rpc.BearerTokens;
import io.granary.common.rpc.RpcErrors;
import io.granary.dataset.DatasetRef;
import io.granary.proto.cache.v1.EvictRequest;
import io.granary.proto.cache.v1.GcRequest;
import io.granary.proto.cache.v1.ListJobsRequest;
import io.granary.proto.cache.v1.MountRequest;
import io.granary.proto.cache.v1.NodeCacheServiceGrpc;
import io.granary.proto.cache.v1.StageEvent;
import io.granary.proto.cache.v1.StageRequest;
import io.granary.proto.cache.v1.StatusRequest;
import io.granary.proto.cache.v1.UmountRequest;
import io.granary.proto.cache.v1.VerifyRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The node's cache through its daemon: the same calls as in process, over granary.cache.v1.NodeCacheService. */
public final class DaemonClient implements CacheAccess {

    private final String target;
    private final ManagedChannel channel;
    private final NodeCacheServiceGrpc.NodeCacheServiceBlockingStub stub;

    public DaemonClient(String target, Optional<String> token) {
        this.target = target;
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        NodeCacheServiceGrpc.NodeCacheServiceBlockingStub blocking = NodeCacheServiceGrpc.newBlockingStub(channel);
        this.stub = token.isPresent() ? blocking.withCallCredentials(BearerTokens.credentials(token.get())) : blocking;
    }

    /**
     * The daemon this cache should be reached through, by the settings: a configured HOST:PORT,
     * the daemon recorded under the cache root while it runs ({@code auto}), or none.
     */
    public static Optional<DaemonClient> connect(io.granary.cache.CacheSettings settings) {
        DaemonSettings daemon = settings.daemon();
        if (daemon.connect().equals(DaemonSettings.OFF)) {
            return Optional.empty();
        }
        if (!daemon.connect().equals(DaemonSettings.AUTO)) {
            return Optional.of(new DaemonClient(daemon.connect(), daemon.token()));
        }
        return DaemonFile.running(settings.root()).map(address -> new DaemonClient(address.target(), daemon.token()));
    }

    @Override
    public String where() {
        return "daemon at " + target;
    }

    @Override
    public StageResult stage(DatasetRef ref, int parallel, boolean showProgress) {
        StageEvent last = follow(() -> stub.stage(StageRequest.newBuilder().setRef(ref.toString()).setParallel(parallel).build()), showProgress);
        return Protos.fromProto(last.getStaged());
    }

    @Override
    public Mounts.MountResult mount(DatasetRef ref, Path target, int parallel, boolean showProgress) {
        MountRequest request = MountRequest.newBuilder().setRef(ref.toString()).setTarget(target.toAbsolutePath().normalize().toString())
                .setParallel(parallel).build();
        return Protos.fromProto(follow(() -> stub.mount(request), showProgress).getMounted());
    }

    /** Reads a stage's events, drawing its progress here, and returns the last (the result). */
    private StageEvent follow(Supplier<Iterator<StageEvent>> call, boolean showProgress) {
        return call(() -> {
            Progress progress = null;
            long filesShown = 0;
            long bytesShown = 0;
            try {
                Iterator<StageEvent> events = call.get();
                while (events.hasNext()) {
                    StageEvent event = events.next();
                    if (!event.hasProgress()) {
                        return event;
                    }
                    if (!showProgress) {
                        continue;
                    }
                    var report = event.getProgress();
                    if (progress == null) {
                        progress = Progress.start("staging " + report.getSnapshotKey() + " (" + where() + ")", "files", report.getFilesTotal())
                                .withTotalBytes(report.getBytesTotal());
                    }
                    progress.advance(report.getFilesDone() - filesShown, report.getBytesDone() - bytesShown);
                    filesShown = report.getFilesDone();
                    bytesShown = report.getBytesDone();
                }
                throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "the cache daemon at " + target + " ended the stage without a result",
                        "its log says why; run the command again", null);
            } finally {
                if (progress != null) {
                    progress.close();
                }
            }
        });
    }

    @Override
    public String umount(Path target) {
        return call(() -> stub.umount(UmountRequest.newBuilder().setTarget(target.toAbsolutePath().normalize().toString()).build()))
                .getSnapshotKey();
    }

    @Override
    public CacheStatus status() {
        return Protos.fromProto(call(() -> stub.status(StatusRequest.getDefaultInstance())));
    }

    @Override
    public NodeCache.EvictResult evict(DatasetRef ref) {
        return Protos.fromProto(call(() -> stub.evict(EvictRequest.newBuilder().setRef(ref.toString()).build())));
    }

    @Override
    public NodeCache.VerifyResult verify(int parallel) {
        return Protos.fromProto(call(() -> stub.verify(VerifyRequest.newBuilder().setParallel(parallel).build())));
    }

    @Override
    public NodeCache.GcResult gc() {
        return Protos.fromProto(call(() -> stub.gc(GcRequest.getDefaultInstance())));
    }

    /** Starts a stage in the daemon; it goes on after this process ends. */
    public CacheJobs.Job startJob(DatasetRef ref, int parallel) {
        return Protos.fromProto(call(() -> stub.startJob(StageRequest.newBuilder().setRef(ref.toString()).setParallel(parallel).build())));
    }

    @Override
    public List<CacheJobs.Job> jobs() {
        return call(() -> stub.listJobs(ListJobsRequest.getDefaultInstance())).getJobsList().stream().map(Protos::fromProto).toList();
    }

    private <T> T call(Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw RpcErrors.fromStatus(e, "the cache daemon at " + target, "GRANARY_CACHE_TOKEN or cache.daemon.token");
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
