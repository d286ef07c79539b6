package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.packer.tar.TarEntry;
import io.granary.packer.tar.TarReader;
import java.io.BufferedInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackerTest {

    @TempDir
    Path temp;

    private Packer.Result pack(PackOptions options) throws Exception {
        return new Packer(null, false).pack(options);
    }

    private List<TarEntry> members(Path shard) throws Exception {
        List<TarEntry> entries = new ArrayList<>();
        try (TarReader reader = new TarReader(new BufferedInputStream(Files.newInputStream(shard)), shard.toString())) {
            for (Optional<TarEntry> entry = reader.next(); entry.isPresent(); entry = reader.next()) {
                entries.add(entry.get());
            }
        }
        return entries;
    }

    @Test
    void unpackGivesBackTheSourceTreeByteForByte() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 3, 40);
        Trees.file(source, "odd/name with spaces.v1.flac", 777, 1);
        Path out = temp.resolve("out");

        Packer.Result result = pack(PackOptions.builder(source, out).shardBytes(256 << 10).build());

        assertThat(result.samples()).isEqualTo(121);
        assertThat(result.files()).isEqualTo(241);
        assertThat(result.manifest().shards()).hasSizeGreaterThan(3);
        try (ShardSet set = ShardSet.open(out)) {
            Unpacker.unpack(set.shardFiles(), temp.resolve("back"), io.granary.common.Progress.silent("t", "files"));
        }
        Trees.assertSameTree(temp.resolve("back"), source);
        assertThat(Files.exists(out.resolve(Staging.DIRECTORY))).as("staging removed once finished").isFalse();
    }

    @Test
    void membersOfASampleAreAdjacentAndNeverSplitAcrossShards() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 2, 60);
        Trees.file(source, "spk0/utt7.alt.txt", 10, 2);
        Trees.file(source, "spk0/utt7.d/inner.wav", 10, 3);
        Path out = temp.resolve("out");

        Manifest manifest = pack(PackOptions.builder(source, out).shardBytes(100 << 10).build()).manifest();

        Set<String> finished = new HashSet<>();
        for (Manifest.Shard shard : manifest.shards()) {
            String previous = null;
            for (TarEntry entry : members(out.resolve(shard.name()))) {
                String key = SampleKeys.split(entry.name()).orElseThrow().key();
                if (!key.equals(previous)) {
                    assertThat(finished.add(key)).as("sample %s appears in one run of members only", key).isTrue();
                    previous = key;
                }
            }
            assertThat(shard.bytes()).as(shard.name()).isLessThanOrEqualTo(100 << 10);
        }
        try (ShardSet set = ShardSet.open(out)) {
            assertThat(set.get("spk0/utt7").members()).extracting(Sample.Member::extension)
                    .containsExactly("alt.txt", "json", "wav");
            assertThat(set.get("spk0/utt7.d/inner").members()).extracting(Sample.Member::name).containsExactly("spk0/utt7.d/inner.wav");
        }
    }

    @Test
    void samplesPerShardCapsEachShard() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 25);
        Manifest manifest = pack(PackOptions.builder(source, temp.resolve("out")).samplesPerShard(10).build()).manifest();
        assertThat(manifest.shards()).extracting(Manifest.Shard::samples).containsExactly(10, 10, 5);
        assertThat(manifest.shards()).extracting(Manifest.Shard::name)
                .containsExactly("shard-000000.tar", "shard-000001.tar", "shard-000002.tar");
    }

    @Test
    void gnuTarListsAndExtractsTheShards() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 2, 5);
        String longName = "deep/" + "d".repeat(120) + "/" + "n".repeat(140) + ".wav";
        Trees.file(source, longName, 3000, 4);
        Trees.file(source, "ünïcödé/sämple.json", "{}".getBytes(StandardCharsets.UTF_8));
        Path out = temp.resolve("out");
        Manifest manifest = pack(PackOptions.of(source, out)).manifest();
        Path shard = out.resolve(manifest.shards().get(0).name());

        String listing = Trees.output(temp, "tar", "-tf", shard.toString());
        assertThat(listing.lines().toList()).contains(longName, "ünïcödé/sämple.json", "spk0/utt0.json", "spk0/utt0.wav")
                .hasSize(22);
        Path extracted = Files.createDirectories(temp.resolve("gnu"));
        Trees.output(extracted, "tar", "-xf", shard.toString());
        Trees.assertSameTree(extracted, source);
    }

    @Test
    void pythonsTarfileGroupsTheMembersIntoTheSameSamplesAsWebDataset() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Trees.run(temp, "python3", "--version") == 0, "python3 is not installed here");
        Path source = Trees.speech(temp.resolve("src"), 2, 5);
        Trees.file(source, "long/" + "p".repeat(130) + ".seg.wav", 100, 5);
        Path out = temp.resolve("out");
        Manifest manifest = pack(PackOptions.of(source, out)).manifest();
        // WebDataset's own grouping: tarfile members, keyed with its base_plus_ext pattern, adjacent keys merged
        String script = String.join("\n",
                "import re, sys, tarfile",
                "samples, current = [], None",
                "for member in tarfile.open(sys.argv[1]):",
                "    m = re.match(r'^((?:.*/|)[^.]+)[.]([^/]*)$', member.name)",
                "    if current is None or current[0] != m.group(1):",
                "        current = (m.group(1), [])",
                "        samples.append(current)",
                "    current[1].append(m.group(2))",
                "for key, exts in samples:",
                "    print(key + ' ' + ','.join(sorted(exts)))");
        String printed = Trees.output(temp, "python3", "-c", script, out.resolve(manifest.shards().get(0).name()).toString());
        try (ShardSet set = ShardSet.open(out)) {
            List<String> expected = set.index().keys().stream().map(key -> key + " " + String.join(",",
                    set.index().sample(key).stream().map(IndexRow::extension).sorted().toList())).toList();
            assertThat(printed.lines().toList()).containsExactlyElementsOf(expected).contains("long/" + "p".repeat(130) + " seg.wav");
        }
    }

    @Test
    void indexLocatesEveryMemberAndRandomAccessReturnsItsBytes() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 2, 30);
        Path out = temp.resolve("out");
        pack(PackOptions.builder(source, out).shardBytes(200 << 10).threads(3).build());
        try (ShardSet set = ShardSet.open(out)) {
            assertThat(set.index().sampleCount()).isEqualTo(60);
            for (String key : set.index().keys()) {
                Sample sample = set.get(key);
                for (Sample.Member member : sample.members()) {
                    assertThat(member.data()).as(member.name()).isEqualTo(Files.readAllBytes(source.resolve(member.name())));
                }
            }
            assertThatThrownBy(() -> set.get("spk9/utt1")).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("no sample 'spk9/utt1'");
        }
    }

    @Test
    void metadataColumnsJoinTheIndexByKey() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 3);
        Path metadata = Trees.file(temp, "meta.csv", "key,label,duration\nspk0/utt0,yes,1.5\nspk0/utt2,no,2.25\n".getBytes());
        Path out = temp.resolve("out");
        Manifest manifest = pack(PackOptions.builder(source, out).metadata(metadata).build()).manifest();

        assertThat(manifest.schema().findField("label").type().toString()).isEqualTo("string");
        assertThat(manifest.schema().findField("duration").type().toString()).isEqualTo("double");
        List<org.apache.iceberg.data.Record> rows = new ArrayList<>();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records = org.apache.iceberg.parquet.Parquet.read(org.apache.iceberg.Files.localInput(out.resolve("index/part-000000.parquet").toFile()))
                .project(manifest.schema())
                .createReaderFunc(s -> org.apache.iceberg.data.parquet.GenericParquetReaders.buildReader(manifest.schema(), s)).build()) {
            records.forEach(rows::add);
        }
        assertThat(rows).filteredOn(r -> r.getField("key").equals("spk0/utt2"))
                .extracting(r -> r.getField("duration")).containsExactly(2.25, 2.25);
        assertThat(rows).filteredOn(r -> r.getField("key").equals("spk0/utt1"))
                .extracting(r -> r.getField("label")).containsOnlyNulls();
    }

    @Test
    void metadataWithoutAKeyColumnIsRefused() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path metadata = Trees.file(temp, "meta.csv", "name,label\nspk0/utt0,yes\n".getBytes());
        assertThatThrownBy(() -> pack(PackOptions.builder(source, temp.resolve("out")).metadata(metadata).build()))
                .isInstanceOf(GranaryException.class).hasMessageContaining("has no 'key' column");
    }

    @Test
    void packingAgainAddsOnlyNewSamplesInNewShards() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 10);
        Path out = temp.resolve("out");
        pack(PackOptions.of(source, out));
        Trees.file(source, "spk0/new1.wav", 500, 5);
        Trees.file(source, "spk0/new2.wav", 600, 6);

        Packer.Result again = pack(PackOptions.of(source, out));

        assertThat(again.alreadyPacked()).isEqualTo(10);
        assertThat(again.samples()).isEqualTo(2);
        assertThat(again.manifest().shards()).extracting(Manifest.Shard::name).containsExactly("shard-000000.tar", "shard-000001.tar");
        assertThat(again.manifest().samples()).isEqualTo(12);
        assertThat(members(out.resolve("shard-000001.tar"))).extracting(TarEntry::name).containsExactly("spk0/new1.wav", "spk0/new2.wav");

        Packer.Result nothing = pack(PackOptions.of(source, out));
        assertThat(nothing.samples()).isZero();
        assertThat(nothing.manifest().shards()).hasSize(2);
    }

    @Test
    void aChangedFileOfAPackedSampleIsRefused() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 3);
        Path out = temp.resolve("out");
        pack(PackOptions.of(source, out));
        Trees.file(source, "spk0/utt1.wav", 99, 9);
        assertThatThrownBy(() -> pack(PackOptions.of(source, out))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("spk0/utt1.wav changed since it was packed").hasMessageContaining("shard-000000.tar");

        Trees.file(source, "spk0/utt1.wav", 99, 9);
        Files.delete(source.resolve("spk0/utt1.wav"));
        Trees.file(source, "spk0/utt2.txt", 5, 9);
        assertThatThrownBy(() -> pack(PackOptions.of(source, out))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("spk0/utt2.txt is new, but sample spk0/utt2 was packed without it");
    }

    @Test
    void dedupLeavesOutSamplesWithTheSameContent() throws Exception {
        Path source = temp.resolve("src");
        Trees.file(source, "a/x.wav", 5000, 1);
        Trees.file(source, "a/x.txt", 20, 2);
        Trees.file(source, "b/copy.wav", 5000, 1);
        Trees.file(source, "b/copy.txt", 20, 2);
        Trees.file(source, "b/other.wav", 5000, 1);
        Path out = temp.resolve("out");

        Packer.Result result = pack(PackOptions.builder(source, out).dedup(true).build());

        assertThat(result.duplicates()).containsExactly("b/copy = a/x");
        try (ShardSet set = ShardSet.open(out)) {
            assertThat(set.index().keys()).containsExactly("a/x", "b/other");
            assertThat(set.index().rows()).allSatisfy(row -> assertThat(row.sha256()).hasSize(64));
        }
        Trees.file(source, "c/again.wav", 5000, 1);
        Trees.file(source, "c/again.txt", 20, 2);
        Packer.Result later = pack(PackOptions.builder(source, out).dedup(true).build());
        assertThat(later.duplicates()).containsExactly("b/copy = a/x", "c/again = a/x");
        assertThat(later.samples()).isZero();
    }

    @Test
    void namesWebDatasetCannotKeyAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 3);
        Trees.file(source, "spk0/README", 10, 1);
        Path out = temp.resolve("out");
        assertThatThrownBy(() -> pack(PackOptions.of(source, out))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("file spk0/README has no extension");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files.filter(f -> f.toString().endsWith(".tar"))).isEmpty();
        }
    }

    @Test
    void hiddenFilesAndDirectoriesAreLeftOutAndCounted() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Trees.file(source, "spk0/.DS_Store", 10, 1);
        Trees.file(source, ".git/objects/ab.pack", 10, 1);
        Packer.Result result = pack(PackOptions.of(source, temp.resolve("out")));
        assertThat(result.hiddenFiles()).isEqualTo(2);
        assertThat(result.files()).isEqualTo(4);
    }

    @Test
    void symbolicLinksAreRefusedUnlessFollowed() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path target = Trees.file(temp, "elsewhere/real.wav", 321, 1);
        Files.createSymbolicLink(source.resolve("spk0/linked.wav"), target);

        assertThatThrownBy(() -> pack(PackOptions.of(source, temp.resolve("out")))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("spk0/linked.wav is a symbolic link")
                .extracting(e -> ((GranaryException) e).hint()).asString().contains("--follow-symlinks");

        pack(PackOptions.builder(source, temp.resolve("out2")).followSymlinks(true).build());
        try (ShardSet set = ShardSet.open(temp.resolve("out2"))) {
            assertThat(set.get("spk0/linked").members().get(0).data()).isEqualTo(Files.readAllBytes(target));
        }
    }

    @Test
    void unreadableFilesFailOrAreSkippedAndListed() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Files.createSymbolicLink(source.resolve("spk0/gone.wav"), temp.resolve("does-not-exist.wav"));
        PackOptions options = PackOptions.builder(source, temp.resolve("out")).followSymlinks(true).build();

        assertThatThrownBy(() -> pack(options)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("cannot read").hasMessageContaining("gone.wav: it is a link to a missing file")
                .extracting(e -> ((GranaryException) e).hint()).asString().contains("--skip-unreadable");

        Packer.Result result = pack(options.toBuilder().skipUnreadable(true).build());
        assertThat(result.unreadable()).singleElement().asString().contains("gone.wav");
        assertThat(result.samples()).isEqualTo(2);
    }

    @Test
    void unreadableByPermissionFailsNamingTheFile() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
                "root reads every file whatever its mode; the dangling-link test covers the same path");
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path locked = Trees.file(source, "spk0/locked.wav", 10, 1);
        Files.setPosixFilePermissions(locked, Set.of());
        assertThatThrownBy(() -> pack(PackOptions.of(source, temp.resolve("out")))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("cannot read " + locked);
    }

    @Test
    void namesThatAreNotUtf8AreRefused() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 1);
        assertThat(Trees.run(source, "bash", "-c", "printf x > $'bad\\xff.wav'")).isZero();
        assertThatThrownBy(() -> pack(PackOptions.of(source, temp.resolve("out")))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("is not valid UTF-8");
    }

    @Test
    void anotherPackIntoTheSameDirectoryIsRefusedWhileOneRuns() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path out = Files.createDirectories(temp.resolve("out"));
        try (PackLock held = PackLock.acquire(out)) {
            assertThatThrownBy(() -> pack(PackOptions.of(source, out))).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("another `granary pack` is writing to");
        }
        assertThat(pack(PackOptions.of(source, out)).samples()).isEqualTo(2);
    }

    @Test
    void sampleReaderGroupsMembersAndShufflesRepeatably() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 3, 20);
        Path out = temp.resolve("out");
        pack(PackOptions.builder(source, out).shardBytes(64 << 10).build());
        try (ShardSet set = ShardSet.open(out)) {
            List<String> inOrder = new ArrayList<>();
            try (SampleReader reader = set.samples()) {
                reader.forEachRemaining(sample -> {
                    assertThat(sample.members()).extracting(Sample.Member::extension).containsExactly("json", "wav");
                    inOrder.add(sample.key());
                });
            }
            assertThat(inOrder).containsExactlyElementsOf(set.index().keys());

            List<String> first = keys(SampleReader.shuffled(set.shardFiles(), 16, 42));
            List<String> second = keys(SampleReader.shuffled(set.shardFiles(), 16, 42));
            List<String> otherSeed = keys(SampleReader.shuffled(set.shardFiles(), 16, 43));
            assertThat(first).containsExactlyInAnyOrderElementsOf(inOrder).isEqualTo(second).isNotEqualTo(inOrder).isNotEqualTo(otherSeed);
        }
    }

    private static List<String> keys(SampleReader reader) throws Exception {
        List<String> keys = new ArrayList<>();
        try (reader) {
            reader.forEachRemaining(sample -> keys.add(sample.key()));
        }
        return keys;
    }

    @Test
    void recordsLeftByARunThatDiedAfterItsManifestNeverCostAListedShard() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 4);
        Path out = temp.resolve("out");
        PackOptions options = PackOptions.of(source, out);
        Manifest manifest = pack(options).manifest();
        Staging left = Staging.open(out, options, 0);
        left.record(new Staging.ShardRecord(0, "stale", manifest.shards().get(0), List.of()));

        Packer.Result again = pack(options);

        assertThat(again.samples()).isZero();
        assertThat(out.resolve(manifest.shards().get(0).name())).exists();
        try (ShardSet set = ShardSet.open(out)) {
            assertThat(Verifier.verify(set, io.granary.common.Progress.silent("v", "files")).problems()).isEmpty();
        }
        assertThat(out.resolve(Staging.DIRECTORY)).doesNotExist();
    }

    @Test
    void aRunThatFailedBeforeWritingAShardDoesNotPinItsOptions() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path out = temp.resolve("out");
        Staging.open(Files.createDirectories(out), PackOptions.builder(source, out).shardBytes(1 << 20).build(), 0);
        assertThat(pack(PackOptions.of(source, out)).samples()).isEqualTo(2);
    }

    @Test
    void rerunWithOtherOptionsThanTheInterruptedRunIsRefused() throws Exception {
        Path source = Trees.speech(temp.resolve("src"), 1, 2);
        Path out = temp.resolve("out");
        Staging staging = Staging.open(Files.createDirectories(out), PackOptions.builder(source, out).shardBytes(1 << 20).build(), 0);
        staging.record(new Staging.ShardRecord(0, "f", new Manifest.Shard("shard-000000.tar", 1024, 0, 0, "", "index/part-000000.parquet"), List.of()));
        assertThatThrownBy(() -> pack(PackOptions.of(source, out))).isInstanceOf(GranaryException.class)
                .hasMessageContaining("unfinished pack made with other options");
    }
}
