package io.granary.cache.daemon;

import io.granary.cache.NodeCache;
import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.ProgressSink;
import io.granary.cache.stage.StageResult;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.common.rpc.RpcErrors;
import io.granary.dataset.DatasetRef;
import io.granary.proto.cache.v1.CacheStatus;
import io.granary.proto.cache.v1.EvictRequest;
import io.granary.proto.cache.v1.EvictResponse;
import io.granary.proto.cache.v1.GcRequest;
import io.granary.proto.cache.v1.GcResponse;
import io.granary.proto.cache.v1.Job;
import io.granary.proto.cache.v1.ListJobsRequest;
import io.granary.proto.cache.v1.ListJobsResponse;
import io.granary.proto.cache.v1.MountRequest;
import io.granary.proto.cache.v1.NodeCacheServiceGrpc;
import io.granary.proto.cache.v1.StageEvent;
import io.granary.proto.cache.v1.StageRequest;
import io.granary.proto.cache.v1.StatusRequest;
import io.granary.proto.cache.v1.UmountRequest;
import io.granary.proto.cache.v1.UmountResponse;
import io.granary.proto.cache.v1.VerifyRequest;
import io.granary.proto.cache.v1.VerifyResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of granary.cache.v1.NodeCacheService: each call does what the same CLI
 * command does in process, on the daemon's one {@link NodeCache}. Stages and mounts run on the
 * daemon's worker threads and stream their progress; a caller that hangs up cancels its stage
 * (what was copied is kept). Background jobs run in the daemon and outlive their caller.
 */
final class CacheRpcService extends NodeCacheServiceGrpc.NodeCacheServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(CacheRpcService.class);
    private static final long PROGRESS_EVERY_MILLIS = 500;

    private final NodeCache cache;
    private final CacheMetrics metrics;
    private final ExecutorService workers;
    private final ScheduledExecutorService ticker;
    private final CacheJobs jobs;

    CacheRpcService(NodeCache cache, CacheMetrics metrics, ExecutorService workers, ScheduledExecutorService ticker) {
        this.cache = cache;
        this.metrics = metrics;
        this.workers = workers;
        this.ticker = ticker;
        this.jobs = new CacheJobs(cache.settings().root());
    }

    private int parallel(int requested) {
        return requested > 0 ? requested : cache.settings().parallel();
    }

    @Override
    public void stage(StageRequest request, StreamObserver<StageEvent> events) {
        streamed("Stage", events, sink -> {
            StageResult result = cache.stage(ref(request.getRef()), parallel(request.getParallel()), sink);
            metrics.staged(result);
            return StageEvent.newBuilder().setStaged(Protos.toProto(result)).build();
        });
    }

    @Override
    public void mount(MountRequest request, StreamObserver<StageEvent> events) {
        streamed("Mount", events, sink -> {
            if (request.getTarget().isBlank()) {
                throw new GranaryException("a mount needs a target directory", "give the directory as the daemon sees it");
            }
            Mounts.MountResult result = new Mounts(cache).mount(ref(request.getRef()), Path.of(request.getTarget()),
                    parallel(request.getParallel()), sink);
            metrics.staged(result.stage());
            return StageEvent.newBuilder().setMounted(Protos.toProto(result)).build();
        });
    }

    @Override
    public void startJob(StageRequest request, StreamObserver<Job> response) {
        unary("StartJob", response, () -> {
            // the snapshot the ref names now: a typo fails here, and a newer snapshot landing later does not change the job
            String key = cache.resolve(ref(request.getRef())).key();
            CacheJobs.Job job = jobs.create(request.getRef(), key).runBy(ProcessHandle.current().pid());
            jobs.save(job);
            workers.submit(() -> runJob(job, parallel(request.getParallel())));
            return Protos.toProto(job);
        });
    }

    private void runJob(CacheJobs.Job job, int parallel) {
        try {
            StageResult result = cache.stage(DatasetRef.parse(job.snapshotKey()), parallel, ProgressSink.NONE);
            metrics.staged(result);
            jobs.save(job.with(CacheJobs.Job.DONE, String.format(java.util.Locale.ROOT, "staged %d files; copied %d files, %d bytes, in %.1f s",
                    result.files(), result.filesCopied(), result.bytesCopied(), result.elapsed().toMillis() / 1000.0)));
            LOG.info("job {}: staged {}", job.id(), job.snapshotKey());
        } catch (RuntimeException e) {
            LOG.warn("job {}: staging {} failed: {}", job.id(), job.snapshotKey(), e.getMessage());
            jobs.save(job.with(CacheJobs.Job.FAILED, e.getMessage()));
        }
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
        unary("ListJobs", response, () -> ListJobsResponse.newBuilder()
                .addAllJobs(jobs.list().stream().map(job -> Protos.toProto(job.settled())).toList()).build());
    }

    @Override
    public void umount(UmountRequest request, StreamObserver<UmountResponse> response) {
        unary("Umount", response, () -> {
            Mounts.Marker marker = new Mounts(cache).umount(Path.of(request.getTarget()));
            return UmountResponse.newBuilder().setSnapshotKey(marker.snapshotKey()).build();
        });
    }

    @Override
    public void status(StatusRequest request, StreamObserver<CacheStatus> response) {
        unary("Status", response, () -> Protos.toProto(cache.status()));
    }

    @Override
    public void evict(EvictRequest request, StreamObserver<EvictResponse> response) {
        unary("Evict", response, () -> {
            NodeCache.EvictResult result = cache.evict(ref(request.getRef()));
            metrics.evicted("evict", result.entries(), result.bytes());
            return Protos.toProto(result);
        });
    }

    @Override
    public void verify(VerifyRequest request, StreamObserver<VerifyResponse> response) {
        unary("Verify", response, () -> Protos.toProto(cache.verify(parallel(request.getParallel()))));
    }

    @Override
    public void gc(GcRequest request, StreamObserver<GcResponse> response) {
        unary("Gc", response, () -> Protos.toProto(cache.gc()));
    }

    private static DatasetRef ref(String text) {
        if (text.isBlank()) {
            throw new GranaryException("the request names no dataset ref", "send ref: NS.NAME, NS.NAME@TAG, @BRANCH or @SNAPSHOT_ID");
        }
        return DatasetRef.parse(text);
    }

    private <T> void unary(String method, StreamObserver<T> response, Supplier<T> work) {
        T answer;
        try {
            answer = work.get();
        } catch (RuntimeException e) {
            fail(method, response, e);
            return;
        }
        metrics.called(method, true);
        response.onNext(answer);
        response.onCompleted();
    }

    private void fail(String method, StreamObserver<?> response, Throwable e) {
        metrics.called(method, false);
        if (!(e instanceof GranaryException)) {
            LOG.error("{} failed", method, e);
        }
        response.onError(RpcErrors.toStatus(e));
    }

    /**
     * Runs a stage or mount on a worker, sends its copying progress every half second, then its
     * result. Hanging up interrupts the worker, which releases the stage's reservations.
     */
    private void streamed(String method, StreamObserver<StageEvent> events, Function<ProgressSink, StageEvent> work) {
        StreamedCall stream = new StreamedCall((ServerCallStreamObserver<StageEvent>) events);
        AtomicReference<Future<?>> running = new AtomicReference<>();
        stream.call.setOnCancelHandler(() -> {
            LOG.info("{}: the caller hung up; stopping", method);
            Future<?> task = running.get();
            if (task != null) {
                task.cancel(true);
            }
        });
        AtomicReference<ScheduledFuture<?>> reporting = new AtomicReference<>();
        ProgressSink sink = (snapshotKey, files, bytes) -> {
            Progress progress = Progress.silent("staging", "files");
            ScheduledFuture<?> previous = reporting.getAndSet(ticker.scheduleAtFixedRate(() -> stream.send(StageEvent.newBuilder()
                    .setProgress(io.granary.proto.cache.v1.Progress.newBuilder().setSnapshotKey(snapshotKey).setFilesTotal(files)
                            .setBytesTotal(bytes).setFilesDone(progress.done()).setBytesDone(progress.bytesDone()))
                    .build()), PROGRESS_EVERY_MILLIS, PROGRESS_EVERY_MILLIS, TimeUnit.MILLISECONDS));
            if (previous != null) {
                previous.cancel(false);
            }
            return progress;
        };
        running.set(workers.submit(() -> {
            try {
                StageEvent result = work.apply(sink);
                stopReporting(reporting);
                metrics.called(method, true);
                stream.finish(result);
            } catch (RuntimeException e) {
                stopReporting(reporting);
                metrics.called(method, false);
                if (!(e instanceof GranaryException)) {
                    LOG.error("{} failed", method, e);
                }
                stream.fail(e);
            }
        }));
    }

    /** One streaming call, written to by the worker and the progress ticker: nothing is sent after it ends. */
    private static final class StreamedCall {
        final ServerCallStreamObserver<StageEvent> call;
        private boolean ended;

        StreamedCall(ServerCallStreamObserver<StageEvent> call) {
            this.call = call;
        }

        synchronized void send(StageEvent event) {
            if (!ended && !call.isCancelled()) {
                call.onNext(event);
            }
        }

        synchronized void finish(StageEvent result) {
            if (!ended && !call.isCancelled()) {
                call.onNext(result);
                call.onCompleted();
            }
            ended = true;
        }

        synchronized void fail(Throwable e) {
            if (!ended && !call.isCancelled()) {
                call.onError(RpcErrors.toStatus(e));
            }
            ended = true;
        }
    }

    private static void stopReporting(AtomicReference<ScheduledFuture<?>> reporting) {
        ScheduledFuture<?> task = reporting.getAndSet(null);
        if (task != null) {
            task.cancel(false);
        }
    }
}
