package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.common.Progress;
import io.granary.packer.tar.TarEntry;
import io.granary.packer.tar.TarReader;
import java.io.BufferedInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeTest {

    @TempDir
    Path temp;

    static PackOptions options(Path source, Path out) {
        return PackOptions.builder(source, out).shardBytes(64 << 10).threads(1).build();
    }

    private static long stagedShards(Path out) throws Exception {
        Path staging = out.resolve(Staging.DIRECTORY);
        if (!Files.isDirectory(staging)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(staging)) {
            return files.filter(f -> f.getFileName().toString().startsWith("shard-")).count();
        }
    }

    @Test
    void aPackKilledMidShardResumesKeepingFinishedShards() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 10, 150);
        Path out = temp.resolve("out");
        Process child = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PackInChildProcess.class.getName(), source.toString(), out.toString()))
                .redirectErrorStream(true).redirectOutput(temp.resolve("child.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (stagedShards(out) < 3 && child.isAlive() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(child.isAlive()).as("the child was still packing when killed; log: " + temp.resolve("child.log")).isTrue();
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } finally {
            child.destroyForcibly();
        }
        assertThat(Manifest.existsIn(out)).as("no manifest before the pack finished").isFalse();
        try (Stream<Path> files = Files.list(out)) {
            for (Path shard : files.filter(f -> f.getFileName().toString().endsWith(".tar")).toList()) {
                assertThat(readsToTheEnd(shard)).as("%s under its final name is a whole archive", shard.getFileName()).isTrue();
            }
        }

        Packer.Result resumed = new Packer(null, false).pack(options(source, out));

        assertThat(resumed.shardsKept()).isGreaterThanOrEqualTo(3);
        assertThat(resumed.shardsWritten()).isPositive();
        assertThat(resumed.manifest().samples()).isEqualTo(1500);
        try (ShardSet set = ShardSet.open(out)) {
            assertThat(Verifier.verify(set, Progress.silent("v", "files")).problems()).isEmpty();
            Unpacker.unpack(set.shardFiles(), temp.resolve("back"), Progress.silent("u", "files"));
        }
        Trees.assertSameTree(temp.resolve("back"), source);
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(name -> name.endsWith(".partial"))
                    .doesNotContain(Staging.DIRECTORY);
        }
    }

    private static boolean readsToTheEnd(Path shard) {
        try (TarReader reader = new TarReader(new BufferedInputStream(Files.newInputStream(shard)), shard.toString())) {
            for (Optional<TarEntry> entry = reader.next(); entry.isPresent(); entry = reader.next()) {
                reader.readData();
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
