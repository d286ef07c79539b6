package io.granary.cache.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.CacheSettings;
import io.granary.cache.CacheStatus;
import io.granary.cache.InProcessCache;
import io.granary.cache.NodeCache;
import io.granary.cache.mount.Mounts;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real daemon on 127.0.0.1 (port 0) over a real catalog, reached through its gRPC client. */
class CacheDaemonTest {

    private static final long MB = 1 << 20;
    private static final String TOKEN = "s3cret-token";

    @TempDir
    Path temp;

    private CacheFixture fixture;
    private NodeCache cache;
    private CacheDaemon daemon;
    private CacheSettings settings;

    @BeforeEach
    void setUp() {
        fixture = new CacheFixture(temp);
        settings = fixture.settings("cache", 64 * MB).withDaemon(DaemonSettings.defaults().withListen("127.0.0.1", 0, 0)
                .withToken(Optional.of(TOKEN)));
        cache = fixture.cache(settings);
        daemon = new CacheDaemon(cache, settings.daemon());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        cache.close();
        fixture.close();
    }

    private DaemonClient client() {
        return DaemonClient.connect(settings).orElseThrow();
    }

    @Test
    void theClientFindsTheDaemonUnderTheCacheRootAndStagesThroughIt() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 4, 200, 1);
        try (DaemonClient client = client()) {
            assertThat(client.where()).isEqualTo("daemon at 127.0.0.1:" + daemon.port());
            StageResult first = client.stage(ref, 2, false);
            assertThat(first.files()).isEqualTo(5);
            assertThat(first.filesCopied()).isEqualTo(5);
            StageResult again = client.stage(ref, 2, false);
            assertThat(again.filesCopied()).isZero();
            assertThat(again.filesCached()).isEqualTo(5);

            // the daemon's answers are the cache's own
            CacheStatus remote = client.status();
            CacheStatus local = cache.status();
            assertThat(remote.usedBytes()).isEqualTo(local.usedBytes()).isEqualTo(first.bytes());
            assertThat(remote.snapshots()).singleElement().satisfies(s -> {
                assertThat(s.key()).isEqualTo(first.snapshotKey());
                assertThat(s.cachedPercent()).isEqualTo(100.0);
            });
            assertThat(client.verify(2).damaged()).isEmpty();
            assertThat(client.evict(ref).entries()).isEqualTo(5);
            assertThat(cache.status().usedBytes()).isZero();
        }
        String metrics = http("/metrics", TOKEN).body();
        assertThat(metrics).contains("granary_cache_hits_total 5.0", "granary_cache_misses_total 5.0",
                "granary_cache_evictions_total{cause=\"evict\"} 5.0", "granary_cache_used_bytes 0.0",
                "granary_cache_quota_bytes " + (double) (64 * MB));
    }

    @Test
    void mountsAndJobsRunInTheDaemon() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 3, 100, 2);
        Path view = temp.resolve("views/events");
        try (DaemonClient client = client()) {
            Mounts.MountResult mounted = client.mount(ref, view, 0, false);
            assertThat(mounted.files()).isEqualTo(4);
            assertThat(Files.isRegularFile(view.resolve("_manifest.json"))).isTrue();
            assertThat(cache.status().snapshots()).singleElement().satisfies(s -> assertThat(s.pinnedBy()).containsExactly("mount " + view));
            assertThat(client.umount(view)).isEqualTo(mounted.snapshotKey());
            assertThat(Files.exists(view)).isFalse();

            DatasetRef other = fixture.table("demo.clicks", 2, 100, 3);
            CacheJobs.Job job = client.startJob(other, 2);
            assertThat(job.pid()).isEqualTo(ProcessHandle.current().pid());
            CacheJobs.Job done = waitForJob(client, job.id());
            assertThat(done.state()).as(done.message()).isEqualTo("done");
            assertThat(cache.status().snapshots()).anySatisfy(s -> {
                assertThat(s.key()).isEqualTo(job.snapshotKey());
                assertThat(s.cachedPercent()).isEqualTo(100.0);
            });
        }
    }

    @Test
    void errorsReachTheClientAsTheSameGranaryExceptions() {
        try (DaemonClient client = client(); InProcessCache local = new InProcessCache(fixture.cache(settings))) {
            GranaryException remote = catchGranary(() -> client.stage(DatasetRef.parse("demo.nope"), 0, false));
            GranaryException inProcess = catchGranary(() -> local.stage(DatasetRef.parse("demo.nope"), 0, false));
            assertThat(remote.kind()).isEqualTo(inProcess.kind()).isEqualTo(GranaryException.Kind.NOT_FOUND);
            assertThat(remote.getMessage()).isEqualTo(inProcess.getMessage());
            assertThat(remote.hint()).isEqualTo(inProcess.hint()).isNotEmpty();

            assertThatThrownBy(() -> client.umount(temp.resolve("not-a-view")))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("is not a Granary mount");
        }
        try (DaemonClient noToken = new DaemonClient("127.0.0.1:" + daemon.port(), Optional.empty())) {
            assertThatThrownBy(noToken::status).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("refused the call").hasMessageContaining("bearer token");
        }
        assertThat(http("/metrics", "wrong").statusCode()).isEqualTo(401);
        assertThat(http("/health", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aStoppedDaemonIsNotUsedAndASecondOneForTheSameRootIsRefused() {
        assertThatThrownBy(() -> new CacheDaemon(cache, settings.daemon()))
                .isInstanceOf(GranaryException.class).hasMessageContaining("a cache daemon already runs for " + settings.root());
        int port = daemon.port();
        daemon.close();
        daemon = null;
        assertThat(DaemonClient.connect(settings)).isEmpty();
        assertThat(DaemonClient.connect(settings.withDaemon(settings.daemon().withConnect(DaemonSettings.OFF)))).isEmpty();
        try (DaemonClient gone = new DaemonClient("127.0.0.1:" + port, Optional.of(TOKEN))) {
            assertThatThrownBy(gone::status).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("cannot reach the cache daemon at 127.0.0.1:" + port);
        }
    }

    @Test
    void theDaemonAndAnotherProcessStagingAtOnceStayWithinTheQuota() throws Exception {
        // each of the four snapshots is about 6 MB; the quota holds two of them
        List<DatasetRef> refs = List.of(fixture.table("demo.a", 10, 1000, 11), fixture.table("demo.b", 10, 1000, 12),
                fixture.table("demo.c", 10, 1000, 13), fixture.table("demo.d", 10, 1000, 14));
        CacheSettings small = settings.withQuota(16 * MB);
        daemon.close();
        cache.close();
        cache = fixture.cache(small);
        daemon = new CacheDaemon(cache, small.daemon());
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong most = new AtomicLong();
        CompletableFuture<Void> watcher = CompletableFuture.runAsync(() -> {
            while (running.get()) {
                most.accumulateAndGet(CacheFixture.diskUse(small.root()), Math::max);
            }
        });
        try (DaemonClient client = client(); NodeCache other = fixture.cache(small)) {
            CompletableFuture<Void> viaDaemon = CompletableFuture.runAsync(() -> {
                client.stage(refs.get(0), 2, false);
                client.stage(refs.get(1), 2, false);
            });
            other.stage(refs.get(2), 2, false);
            other.stage(refs.get(3), 2, false);
            viaDaemon.get();
        } finally {
            running.set(false);
            watcher.get();
        }
        // together they do not fit, so the stages had to evict each other's files
        assertThat(cache.status().snapshots().stream().mapToLong(CacheStatus.SnapshotStatus::bytes).sum()).isGreaterThan(16 * MB);
        assertThat(most.get()).isPositive().isLessThanOrEqualTo(16 * MB);
        assertThat(cache.status().usedBytes()).isLessThanOrEqualTo(16 * MB);
        assertThat(cache.verify(2).damaged()).isEmpty();
    }

    private static CacheJobs.Job waitForJob(DaemonClient client, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            CacheJobs.Job job = client.jobs().stream().filter(j -> j.id().equals(id)).findFirst().orElseThrow();
            if (!job.state().equals("running")) {
                return job;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " still running after 60 s");
    }

    private static GranaryException catchGranary(Runnable call) {
        try {
            call.run();
        } catch (GranaryException e) {
            return e;
        }
        throw new AssertionError("expected a GranaryException");
    }

    private HttpResponse<String> http(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.httpPort() + path));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
