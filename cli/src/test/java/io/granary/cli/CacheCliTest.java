package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary cache ...`, `granary mount` and `granary umount` as users type them: outputs, errors, exit codes. */
class CacheCliTest {

    @TempDir
    Path dir;

    GranaryCli granary;

    @BeforeEach
    void setUp() throws Exception {
        granary = new GranaryCli(dir.resolve("data"));
        Path source = dir.resolve("src");
        for (int i = 0; i < 30; i++) {
            write(source.resolve("spk" + (i % 3)), "utt" + i + ".txt", "transcript " + i);
            Files.write(source.resolve("spk" + (i % 3)).resolve("utt" + i + ".wav"), new byte[1000 + 100 * i]);
        }
        ok("pack", source.toString(), "--out", dir.resolve("shards").toString(), "--shard-size", "16k", "--dataset", "media.speech");
        write(dir, "users.csv", "user_id,country", "1,FR", "2,DE", "3,JP");
        ok("dataset", "create", "demo.users", "--from", dir.resolve("users.csv").toString());
    }

    private GranaryCli.Run ok(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    private GranaryCli.Run fails(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isEqualTo(1);
        return run;
    }

    @Test
    void stageStatusMountUmountEvict() throws Exception {
        assertThat(ok("cache", "stage", "media.speech").out()).contains("staged media.speech (media.speech@").contains("0 already cached");
        assertThat(ok("cache", "stage", "media.speech", "--parallel", "2").out()).contains("copied 0 files, 0 B");
        ok("cache", "stage", "demo.users");
        String status = ok("cache", "status").out();
        assertThat(status).contains("used of").contains("quota").contains("least recently used first")
                .containsPattern("media\\.speech@\\d+ +shards .* 100% +\\S+ \\S+ +-")
                .containsPattern("demo\\.users@\\d+ +table +2 .* 100% +\\S+ \\S+ +-");

        Path view = dir.resolve("mnt/speech");
        assertThat(ok("mount", "media.speech", view.toString()).out()).contains("mounted media.speech").contains("read-only (hard links into the cache)");
        try (Stream<Path> files = Files.list(view)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).contains("manifest.json", "index", "shard-000000.tar");
        }
        assertThat(ok("pack", "verify", view.toString()).out()).startsWith("ok: ").contains("60 members");
        assertThat(ok("cache", "status").out()).contains("mount " + view);
        assertThat(fails("cache", "evict", "media.speech").err()).contains("is pinned by mount " + view).contains("granary umount");

        assertThat(ok("umount", view.toString()).out()).contains("unmounted " + view);
        assertThat(view).doesNotExist();
        assertThat(ok("cache", "verify").out()).startsWith("ok: ");
        assertThat(ok("cache", "evict", "media.speech").out()).contains("evicted media.speech@").contains("freed");
        assertThat(ok("cache", "gc").out()).startsWith("gc: ");
        assertThat(ok("cache", "status").out()).doesNotContain("media.speech@");
    }

    @Test
    void badInputGetsAClearErrorAndExitOne() throws Exception {
        assertThat(fails("cache", "stage", "demo.nope").err()).contains("unknown dataset demo.nope").contains("hint:");
        assertThat(fails("cache", "stage", "demo.users@v9").err()).contains("no tag or branch 'v9'");
        Path busy = dir.resolve("busy");
        write(busy, "mine.txt", "x");
        assertThat(fails("mount", "demo.users", busy.toString()).err()).contains("is not empty and is not a Granary mount");
        assertThat(fails("umount", busy.toString()).err()).contains("is not a Granary mount");
        assertThat(Files.readString(busy.resolve("mine.txt"))).isEqualTo("x\n");

        Path small = write(dir, "small.yaml", "data_dir: data", "cache:", "  quota: 4k");
        GranaryCli.Run overQuota = GranaryCli.runRaw("cache", "stage", "media.speech", "--config", small.toString());
        assertThat(overQuota.code()).as(overQuota.toString()).isEqualTo(1);
        assertThat(overQuota.err()).contains("needs").contains("quota is 4.0 KiB").contains("raise cache.quota");

        Path badPolicy = write(dir, "policy.yaml", "cache:", "  policy: fifo");
        GranaryCli.Run policy = GranaryCli.runRaw("config", "--config", badPolicy.toString());
        assertThat(policy.code()).isEqualTo(1);
        assertThat(policy.err()).contains("policy.yaml").contains("policy.yaml:2").contains("unknown eviction policy 'fifo'").contains("lru, lfu");

        Path unreachable = write(dir, "unreachable.yaml", "data_dir: data", "cache:", "  root: other-cache", "  mirrors:",
                "    " + dir.resolve("data/warehouse") + ": hdfs://127.0.0.1:1/warehouse");
        GranaryCli.Run down = GranaryCli.runRaw("cache", "stage", "demo.users", "--config", unreachable.toString());
        assertThat(down.code()).as(down.toString()).isEqualTo(1);
        assertThat(down.err()).contains("cannot read hdfs://127.0.0.1:1/warehouse/").contains("reachable");
    }

    @Test
    void k8sPrintsYamlAndNodeLabelsNameWhatIsCached() {
        String pod = ok("k8s", "pod-spec", "demo.users", "--image", "acme/train:1", "--name", "run-1").out();
        io.fabric8.kubernetes.api.model.Pod parsed = io.granary.cache.k8s.KubernetesSpecs.parse(pod, io.fabric8.kubernetes.api.model.Pod.class);
        assertThat(parsed.getMetadata().getName()).isEqualTo("run-1");
        assertThat(parsed.getSpec().getInitContainers().get(0).getArgs().get(1)).matches("demo\\.users@\\d+");
        assertThat(ok("k8s", "daemonset", "--image", "acme/granary:1").out()).contains("kind: \"DaemonSet\"").contains("- \"serve\"");
        assertThat(fails("k8s", "pod-spec", "demo.nope", "--image", "x").err()).contains("unknown dataset demo.nope");

        assertThat(ok("cache", "node-labels").out()).contains("nothing to label");
        ok("cache", "stage", "demo.users");
        assertThat(ok("cache", "node-labels").out()).matches("(?s)cache\\.granary\\.io/demo-users-[0-9a-f]{8}=\\d+\\s*");
        assertThat(ok("cache", "node-labels", "--node", "gpu-1").out()).startsWith("kubectl label node gpu-1 cache.granary.io/demo-users-")
                .contains("--overwrite");
    }

    @Test
    void configShowsTheCacheKeys() {
        assertThat(ok("config").out()).contains("cache:").contains("  root: " + dir.resolve("data/cache"))
                .contains("  policy: lru").contains("  high_watermark: 0.95");
    }

    @Test
    void withADaemonRunningTheCommandsGoThroughIt() throws Exception {
        io.granary.cache.CacheSettings settings = io.granary.cache.CacheSettings.defaults(dir.resolve("data/cache"))
                .withDaemon(io.granary.cache.daemon.DaemonSettings.defaults().withListen("127.0.0.1", 0, 0));
        try (io.granary.dataset.Datasets datasets = io.granary.dataset.Datasets.open(
                     io.granary.dataset.catalog.CatalogSettings.localHadoop(dir.resolve("data/warehouse")));
             io.granary.cache.NodeCache cache = new io.granary.cache.NodeCache(settings, datasets, new org.apache.hadoop.conf.Configuration());
             io.granary.cache.daemon.CacheDaemon daemon = new io.granary.cache.daemon.CacheDaemon(cache, settings.daemon())) {
            assertThat(ok("cache", "stage", "media.speech").out()).contains("staged media.speech (media.speech@").contains("0 already cached");
            assertThat(ok("cache", "status").out()).contains("through the cache daemon at 127.0.0.1:" + daemon.port())
                    .containsPattern("media\\.speech@\\d+ +shards .* 100%");
            Path view = dir.resolve("mnt/speech");
            assertThat(ok("mount", "media.speech", view.toString()).out()).contains("mounted media.speech");
            assertThat(cache.status().snapshots()).anySatisfy(s -> assertThat(s.pinnedBy()).contains("mount " + view));
            ok("umount", view.toString());

            String started = ok("cache", "stage", "demo.users", "--async").out();
            assertThat(started).contains("in the cache daemon (daemon at 127.0.0.1:" + daemon.port() + ")");
            long deadline = System.nanoTime() + 60_000_000_000L;
            String jobs;
            do {
                Thread.sleep(100);
                jobs = ok("cache", "jobs").out();
            } while (jobs.contains("running") && System.nanoTime() < deadline);
            assertThat(jobs).containsPattern("demo\\.users +done +100%");
            assertThat(fails("cache", "evict", "demo.nope").err()).contains("unknown dataset demo.nope").contains("hint:");
        }
        // the daemon is gone: the same commands work in process
        assertThat(ok("cache", "status").out()).doesNotContain("through the cache daemon").contains("media.speech@");
    }

    @Test
    void aDaemonThatCannotBeReachedOrIsMisconfiguredIsNamed() throws Exception {
        Path down = write(dir, "down.yaml", "data_dir: data", "cache:", "  daemon:", "    connect: 127.0.0.1:1");
        GranaryCli.Run unreachable = GranaryCli.runRaw("cache", "status", "--config", down.toString());
        assertThat(unreachable.code()).as(unreachable.toString()).isEqualTo(1);
        assertThat(unreachable.err()).contains("cannot reach the cache daemon at 127.0.0.1:1");

        Path bad = write(dir, "bad.yaml", "data_dir: data", "cache:", "  daemon:", "    connect: somewhere");
        GranaryCli.Run wrong = GranaryCli.runRaw("cache", "status", "--config", bad.toString());
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("bad.yaml:4").contains("must be auto, off or HOST:PORT");
    }
}
