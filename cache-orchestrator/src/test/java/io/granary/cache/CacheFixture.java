package io.granary.cache;

import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TestTables;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/** A real catalog in a temp dir with tables and a packed set to stage, and caches over it. */
public final class CacheFixture implements AutoCloseable {

    public static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.required(2, "payload", Types.StringType.get()));

    public final Path dir;
    public final Datasets datasets;

    public CacheFixture(Path dir) {
        this.dir = dir;
        this.datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("warehouse")));
    }

    public Path warehouse() {
        return dir.resolve("warehouse");
    }

    /** A table of {@code files} data files of about {@code rowsPerFile} * 1 KB each, committed in one snapshot. */
    public DatasetRef table(String name, int files, int rowsPerFile, long seed) {
        DatasetName dataset = DatasetName.parse(name);
        if (!datasets.exists(dataset)) {
            datasets.createEmpty(dataset, SCHEMA, Map.of());
        }
        long snapshot = TestTables.appendFiles(datasets, dataset, rows(files, rowsPerFile, seed));
        return DatasetRef.at(dataset, snapshot);
    }

    static List<List<Object[]>> rows(int files, int rowsPerFile, long seed) {
        Random random = new Random(seed);
        List<List<Object[]>> all = new ArrayList<>();
        for (int f = 0; f < files; f++) {
            List<Object[]> rows = new ArrayList<>();
            for (int r = 0; r < rowsPerFile; r++) {
                byte[] bytes = new byte[512];
                random.nextBytes(bytes);
                rows.add(TestTables.row(random.nextLong(), java.util.HexFormat.of().formatHex(bytes)));
            }
            all.add(rows);
        }
        return all;
    }

    /** Packs {@code samples} speech-like samples from a new source tree into the shard set dataset {@code name}. */
    public DatasetRef packed(String name, Path shards, int speakers, int utterances, long seed) throws IOException {
        Path source = dir.resolve("src-" + seed);
        Random random = new Random(seed);
        for (int s = 0; s < speakers; s++) {
            for (int u = 0; u < utterances; u++) {
                Path wav = source.resolve("spk" + s + "-" + seed + "/utt" + u + ".wav");
                Files.createDirectories(wav.getParent());
                byte[] data = new byte[2000 + random.nextInt(20_000)];
                random.nextBytes(data);
                Files.write(wav, data);
                Files.writeString(source.resolve("spk" + s + "-" + seed + "/utt" + u + ".json"), "{\"speaker\": " + s + "}");
            }
        }
        DatasetName dataset = DatasetName.parse(name);
        new Packer(datasets, false).pack(PackOptions.builder(source, shards).dataset(dataset).shardBytes(64 << 10).build());
        return DatasetRef.latest(dataset);
    }

    public NodeCache cache(CacheSettings settings) {
        return new NodeCache(settings, datasets, new Configuration());
    }

    public CacheSettings settings(String root, long quota) {
        return CacheSettings.defaults(dir.resolve(root)).withQuota(quota);
    }

    /** Every regular file under a directory (links followed) by relative path, with its bytes. */
    public static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path file : tree.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(file).toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    /** Bytes of every file under the cache root's entries (copies in progress included): what the cache takes on disk. */
    public static long diskUse(Path cacheRoot) {
        Path dir = cacheRoot.resolve("entries");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> tree = Files.walk(dir)) {
            return tree.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            // a file renamed or deleted while walking: counted on the next poll
            return 0;
        }
    }

    @Override
    public void close() throws IOException {
        datasets.close();
    }
}
