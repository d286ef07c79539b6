package io.granary.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.StageResult;
import io.granary.cache.tier.Tiers;
import io.granary.dataset.DatasetRef;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stagers in other processes: one killed with kill -9 mid-copy, and two processes of two stagers each under one quota. */
class ProcessesTest {

    @TempDir
    Path temp;

    private CacheFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new CacheFixture(temp);
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private Process child(Path log, Path cacheRoot, long quota, int threads, int rounds, String mirror, List<DatasetRef> refs) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), StageInChildProcess.class.getName(),
                fixture.warehouse().toString(), cacheRoot.toString(), Long.toString(quota), Integer.toString(threads),
                Integer.toString(rounds), mirror));
        refs.forEach(ref -> command.add(ref.toString()));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    @Test
    void aStageKilledMidCopyLeavesNoPartialEntryAndTheRerunFinishes() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 6, 300, 1);
        // the remote: a mirror of the warehouse whose fourth file is a pipe that stalls half-way
        Path remote = temp.resolve("remote");
        copyTree(fixture.warehouse(), remote);
        Path cacheRoot = temp.resolve("cache");
        CacheSettings settings = fixture.settings("cache", 1L << 30).withMirrors(Map.of(fixture.warehouse().toString(), remote.toString()));
        SnapshotFiles files;
        try (NodeCache cache = fixture.cache(settings)) {
            files = cache.resolve(ref);
        }
        SnapshotFiles.Remote stalled = files.remote().get(3);
        Path stalledPath = remote.resolve(fixture.warehouse().relativize(Path.of(Tiers.normalize(stalled.location()))));
        byte[] content = Files.readAllBytes(stalledPath);
        Files.delete(stalledPath);
        assertThat(new ProcessBuilder("mkfifo", stalledPath.toString()).start().waitFor()).isZero();

        Path log = temp.resolve("child.log");
        Process child = child(log, cacheRoot, 1L << 30, 1, 1, fixture.warehouse() + "=" + remote, List.of(ref));
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = Files.newOutputStream(stalledPath)) {
                out.write(content, 0, content.length / 2);
                out.flush();
                Thread.sleep(60_000);
            } catch (Exception e) {
                // the reader was killed: the pipe breaks, as the test intends
            }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partialBytes(cacheRoot) < content.length / 2 && child.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(child.isAlive()).as("the child was copying when killed; log: " + log + "\n" + Files.readString(log)).isTrue();
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } finally {
            child.destroyForcibly();
            writer.cancel(true);
        }
        Files.delete(stalledPath);
        Files.write(stalledPath, content);

        try (NodeCache cache = fixture.cache(settings)) {
            assertThat(cache.entryFiles().path(stalled.entryId())).as("no partial file under an entry's name").doesNotExist();
            int recorded = cache.status().snapshots().get(0).cachedFiles();
            assertThat(recorded).as("at most the three files before the stalled one were recorded").isLessThanOrEqualTo(3);
            StageResult rerun = cache.stage(ref, 2, false);
            assertThat(rerun.filesCached()).isEqualTo(recorded);
            assertThat(rerun.filesCopied()).isEqualTo(7 - recorded);
            assertThat(cache.verify(2).damaged()).isEmpty();
            assertThat(Files.readAllBytes(cache.entryFiles().path(stalled.entryId()))).isEqualTo(content);
            assertThat(cache.entryFiles().temporaries()).as("the killed stage's partial copy is cleaned up").isEmpty();
            CacheStatus status = cache.status();
            assertThat(status.reservedBytes()).isZero();
            assertThat(status.snapshots().get(0).pinnedBy()).as("the dead stage's pin is gone").isEmpty();
        }
    }

    @Test
    void fourStagersInTwoProcessesNeverTakeTheCacheAboveItsQuota() throws Exception {
        List<DatasetRef> refs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            refs.add(fixture.table("demo.t" + i, 4, 300, i));
        }
        long largest;
        try (NodeCache probe = fixture.cache(fixture.settings("probe", 1L << 30))) {
            largest = refs.stream().mapToLong(r -> probe.resolve(r).bytes()).max().orElseThrow();
        }
        long quota = largest * 5 / 2; // two snapshots fit, four do not
        Path cacheRoot = temp.resolve("cache");
        Process first = child(temp.resolve("first.log"), cacheRoot, quota, 2, 3, "-", refs);
        Process second = child(temp.resolve("second.log"), cacheRoot, quota, 2, 3, "-", List.of(refs.get(2), refs.get(3), refs.get(0), refs.get(1)));
        long highest = 0;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while ((first.isAlive() || second.isAlive()) && System.nanoTime() < deadline) {
                highest = Math.max(highest, CacheFixture.diskUse(cacheRoot));
            }
            assertThat(first.waitFor(1, TimeUnit.SECONDS) && second.waitFor(1, TimeUnit.SECONDS)).as("both finished in time").isTrue();
        } finally {
            first.destroyForcibly();
            second.destroyForcibly();
        }
        String logs = Files.readString(temp.resolve("first.log")) + Files.readString(temp.resolve("second.log"));
        assertThat(first.exitValue()).as(logs).isZero();
        assertThat(second.exitValue()).as(logs).isZero();
        assertThat(logs).contains("staged StageResult");
        assertThat(highest).as("the most the cache ever took on disk").isPositive().isLessThanOrEqualTo(quota);
        try (NodeCache cache = fixture.cache(CacheSettings.defaults(cacheRoot).withQuota(quota))) {
            CacheStatus status = cache.status();
            assertThat(status.usedBytes()).isLessThanOrEqualTo(quota);
            assertThat(status.reservedBytes()).isZero();
            assertThat(CacheFixture.diskUse(cacheRoot)).isEqualTo(status.usedBytes());
            assertThat(cache.verify(2).damaged()).isEmpty();
        }
    }

    private static long partialBytes(Path cacheRoot) {
        if (!Files.isDirectory(cacheRoot.resolve("entries"))) {
            return 0;
        }
        try {
            return new io.granary.cache.store.EntryFiles(cacheRoot).temporaries().stream().mapToLong(p -> p.toFile().length()).max().orElse(0);
        } catch (Exception e) {
            return 0;
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> tree = Files.walk(from)) {
            for (Path path : tree.toList()) {
                Path target = to.resolve(from.relativize(path));
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }
}
