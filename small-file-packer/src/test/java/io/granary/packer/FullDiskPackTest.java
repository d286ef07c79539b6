package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.testing.TinyDisk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shards onto a real full disk: a 2 MiB tmpfs (needs root to mount, as on CI; skipped elsewhere, saying why). */
class FullDiskPackTest {

    @TempDir
    Path dir;

    private TinyDisk disk;
    private Path tiny;

    @BeforeEach
    void mountTinyDisk() throws Exception {
        disk = TinyDisk.mount(dir.resolve("tiny"), "2m");
        tiny = disk.path();
    }

    @AfterEach
    void unmount() throws Exception {
        if (disk != null) {
            disk.close();
        }
    }

    @Test
    void aPackThatFillsTheDiskFailsClearlyAndResumesOnceThereIsSpace() throws Exception {
        Path source = Trees.speech(dir.resolve("src"), 2, 60);
        Path out = tiny.resolve("shards");
        PackOptions options = PackOptions.builder(source, out).shardBytes(256 << 10).threads(1).build();

        assertThatThrownBy(() -> new Packer(null, false).pack(options)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("in " + out + ": No space left on device")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("free space at " + out)
                        .contains("the shards finished so far are kept"));
        assertThat(Manifest.existsIn(out)).isFalse();
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(name -> name.endsWith(".partial"));
        }
        long kept;
        try (Stream<Path> files = Files.list(out)) {
            kept = files.filter(f -> f.toString().endsWith(".tar")).count();
        }
        assertThat(kept).as("shards finished before the disk filled").isPositive();

        disk.grow("16m");
        Packer.Result resumed = new Packer(null, false).pack(options);
        assertThat(resumed.shardsKept()).isEqualTo((int) kept);
        assertThat(resumed.manifest().samples()).isEqualTo(120);
    }
}
