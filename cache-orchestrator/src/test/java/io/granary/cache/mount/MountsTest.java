package io.granary.cache.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.tier.Tiers;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.packer.Manifest;
import io.granary.packer.ShardSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountsTest {

    @TempDir
    Path temp;

    private CacheFixture fixture;
    private NodeCache cache;
    private Mounts mounts;

    @BeforeEach
    void setUp() {
        fixture = new CacheFixture(temp);
        cache = fixture.cache(fixture.settings("cache", 1L << 30));
        mounts = new Mounts(cache);
    }

    @AfterEach
    void tearDown() throws Exception {
        cache.close();
        fixture.close();
    }

    @Test
    void aTableViewHoldsTheSnapshotsFilesByteForByteAndAManifestOfThem() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 3, 50, 1);
        Path view = temp.resolve("mnt/events");
        Mounts.MountResult result = mounts.mount(ref, view, 2, false);
        assertThat(result.linkKind()).isEqualTo("hard links");

        SnapshotFiles files = cache.resolve(ref);
        Map<String, byte[]> expected = new TreeMap<>();
        for (SnapshotFiles.Remote remote : files.remote()) {
            expected.put(remote.name(), Files.readAllBytes(Path.of(Tiers.normalize(remote.location()))));
        }
        Map<String, byte[]> shown = CacheFixture.contents(view);
        shown.remove(Mounts.MARKER);
        byte[] manifest = shown.remove(io.granary.cache.stage.SnapshotResolver.TABLE_MANIFEST);
        assertThat(shown).containsOnlyKeys(expected.keySet());
        expected.forEach((name, bytes) -> assertThat(shown.get(name)).as(name).isEqualTo(bytes));

        JsonNode listed = new ObjectMapper().readTree(manifest);
        assertThat(listed.get("snapshot_id").asLong()).isEqualTo(fixture.datasets.resolve(ref).snapshot().orElseThrow().snapshotId());
        assertThat(listed.get("data_rows").asLong()).isEqualTo(150);
        assertThat(listed.get("files")).hasSize(3);
        assertThat(listed.get("schema").get("fields")).hasSize(2);
    }

    @Test
    void viewsAreReadOnlyAndUmountUnpinsAndRemovesThem() throws Exception {
        DatasetRef ref = fixture.table("demo.events", 2, 50, 1);
        Path view = temp.resolve("view");
        mounts.mount(ref, view, 2, false);
        String key = cache.resolve(ref).key();
        assertThat(cache.status().snapshots()).singleElement().satisfies(s -> assertThat(s.pinnedBy()).containsExactly("mount " + view));
        try (var tree = Files.walk(view)) {
            for (Path path : tree.filter(p -> !p.getFileName().toString().equals(Mounts.MARKER)).toList()) {
                Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
                assertThat(permissions).as(path.toString())
                        .doesNotContain(PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
            }
        }
        // the same mount again only checks the view
        assertThat(mounts.mount(ref, view, 2, false).stage().filesCopied()).isZero();

        Mounts.Marker marker = mounts.umount(view);
        assertThat(marker.snapshotKey()).isEqualTo(key);
        assertThat(view).doesNotExist();
        assertThat(cache.status().snapshots()).singleElement().satisfies(s -> {
            assertThat(s.pinnedBy()).isEmpty();
            assertThat(s.cachedPercent()).as("unmounting keeps the cached files").isEqualTo(100.0);
        });
    }

    @Test
    void aPackedSetViewOpensAsAShardSetOfTheSnapshot() throws Exception {
        DatasetRef ref = fixture.packed("media.speech", temp.resolve("shards"), 2, 8, 1);
        Path view = temp.resolve("speech");
        mounts.mount(ref, view, 2, false);
        try (ShardSet original = ShardSet.open(temp.resolve("shards")); ShardSet mounted = ShardSet.open(view)) {
            assertThat(mounted.manifest().shards()).isEqualTo(original.manifest().shards());
            assertThat(mounted.index().sample("spk1-1/utt3")).isNotEmpty();
            assertThat(mounted.get("spk1-1/utt3").members()).hasSize(2);
            assertThat(mounted.get("spk1-1/utt3").members().get(1).data())
                    .isEqualTo(original.get("spk1-1/utt3").members().get(1).data());
        }
        assertThat(view.resolve(Manifest.FILE_NAME)).isRegularFile();
    }

    @Test
    void refusesATargetThatIsNotEmptyOrShowsAnotherSnapshot() throws Exception {
        DatasetRef first = fixture.table("demo.events", 1, 10, 1);
        DatasetRef second = fixture.table("demo.events", 1, 10, 2);
        Path busy = temp.resolve("busy");
        Files.createDirectories(busy);
        Files.writeString(busy.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> mounts.mount(first, busy, 2, false))
                .isInstanceOf(GranaryException.class).hasMessageContaining("is not empty and is not a Granary mount");
        assertThat(Files.readString(busy.resolve("notes.txt"))).isEqualTo("mine");
        assertThat(cache.status().snapshots()).as("nothing staged for a refused mount").isEmpty();

        Path view = temp.resolve("view");
        mounts.mount(first, view, 2, false);
        assertThatThrownBy(() -> mounts.mount(second, view, 2, false))
                .isInstanceOf(GranaryException.class).hasMessageContaining("already shows");
        assertThatThrownBy(() -> mounts.umount(busy))
                .isInstanceOf(GranaryException.class).hasMessageContaining("is not a Granary mount");
    }
}
