package io.granary.bench;

import io.granary.cache.CacheSettings;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.StageResult;
import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.FileTrees;
import io.granary.common.Sizes;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FsShell;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.util.ToolRunner;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * `granary bench stage`: a packed set (large shards) and a table of many small data files,
 * 20k files and 5 GB together, staged into an empty cache from a cold page cache, against
 * `cp -r` of the same trees; the same from an HDFS in this JVM against Hadoop's own
 * `FsShell -copyToLocal`; a restage in process and from the command line; evictions per second.
 */
public final class StageBenchmark implements Benchmark {

    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.required(2, "payload", Types.StringType.get()));

    @Override
    public String name() {
        return "stage";
    }

    @Override
    public String description() {
        return "cache stage: 20k files / 5 GB (a packed set + a many-file table) from file:// against cp -r and from HDFS against FsShell -copyToLocal; restage; evictions/s (--files 20000 --gb 5 --rounds 3 --no-hdfs)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("files", "gb", "shard-mb", "parallel", "keep", "no-hdfs", "rounds"));
        int files = (int) options.number("files", 20_000);
        long totalBytes = options.number("gb", 5) << 30;
        long shardBytes = options.number("shard-mb", 64) << 20;
        int parallel = (int) options.number("parallel", 8);
        int rounds = (int) Math.max(1, options.number("rounds", 3));
        PrintWriter out = context.out();
        Path work = context.config().dataDir().toAbsolutePath().resolve("bench/stage-" + System.currentTimeMillis());
        Path warehouse = work.resolve("warehouse");
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
            long start = System.nanoTime();
            // the table takes a fifth of the bytes in all but the shards' files; the packed set the rest
            long tableBytes = totalBytes / 5;
            long mediaBytes = totalBytes - tableBytes;
            int shardFiles = (int) (2 * Math.ceil((double) mediaBytes / shardBytes)) + 1;
            int tableFiles = Math.max(1, files - shardFiles);
            DatasetRef table = manyFileTable(datasets, DatasetName.parse("bench.many_files"), tableFiles, tableBytes / tableFiles, work);
            Path shards = work.resolve("shards");
            DatasetRef media = packedSet(datasets, DatasetName.parse("bench.media"), mediaBytes, shardBytes, work.resolve("media-src"), shards);
            Path tableData = Path.of(datasets.load(table.dataset()).location()).resolve("data");
            CacheSettings base = CacheSettings.defaults(work.resolve("cache")).withQuota(4 * totalBytes);
            long stagedFiles;
            long stagedBytes;
            try (NodeCache probe = new NodeCache(base, datasets, new Configuration())) {
                stagedFiles = probe.resolve(table).fileCount() + probe.resolve(media).fileCount();
                stagedBytes = probe.resolve(table).bytes() + probe.resolve(media).bytes();
            }
            out.printf("stage benchmark: %,d files, %s: bench.media (packed, %s in %s shards) + bench.many_files (%,d data files of %s); "
                    + "generated in %.0f s; %d cores, --parallel %d%n", stagedFiles, Sizes.format(stagedBytes), Sizes.format(mediaBytes),
                    Sizes.format(shardBytes), tableFiles, Sizes.format(tableBytes / tableFiles), seconds(start),
                    Runtime.getRuntime().availableProcessors(), parallel);
            out.flush();

            // file:// against cp -r, each tree from a cold page cache, interleaved over rounds: this machine's disk is noisy
            double[] cpTable = new double[rounds];
            double[] cpShards = new double[rounds];
            double[] stageTable = new double[rounds];
            double[] stageShards = new double[rounds];
            long tableFileCount = 0;
            long tableByteCount = 0;
            Path copies = work.resolve("cp");
            for (int round = 0; round < rounds; round++) {
                Files.createDirectories(copies);
                cold(tableData);
                start = System.nanoTime();
                Shell.run(copies, "cp", "-r", tableData.toString(), copies.resolve("table").toString());
                cpTable[round] = seconds(start);
                cold(shards);
                start = System.nanoTime();
                Shell.run(copies, "cp", "-r", shards.toString(), copies.resolve("shards").toString());
                cpShards[round] = seconds(start);
                FileTrees.delete(copies);
                if (round > 0) {
                    FileTrees.delete(base.root());
                }
                try (NodeCache cache = new NodeCache(base, datasets, new Configuration())) {
                    cold(shards);
                    start = System.nanoTime();
                    StageResult a = cache.stage(media, parallel, false);
                    stageShards[round] = seconds(start);
                    cold(tableData);
                    start = System.nanoTime();
                    StageResult b = cache.stage(table, parallel, false);
                    stageTable[round] = seconds(start);
                    tableFileCount = b.files();
                    tableByteCount = b.bytes();
                    check(a.filesCopied() + b.filesCopied() == stagedFiles, "staged " + (a.filesCopied() + b.filesCopied()) + " of " + stagedFiles);
                }
                out.printf(Locale.ROOT, "round %d: table cp -r %.2f s, stage %.2f s (%.2fx); packed set cp -r %.2f s, stage %.2f s (%.2fx)%n",
                        round + 1, cpTable[round], stageTable[round], cpTable[round] / stageTable[round], cpShards[round], stageShards[round],
                        cpShards[round] / stageShards[round]);
                out.flush();
            }
            double restageSeconds;
            try (NodeCache cache = new NodeCache(base, datasets, new Configuration())) {
                start = System.nanoTime();
                StageResult again = cache.stage(table, parallel, false);
                cache.stage(media, parallel, false);
                restageSeconds = seconds(start);
                check(again.filesCopied() == 0, "the restage copied files");
            }
            double cliRestage = cliRestage(work, warehouse, base.root(), out);
            long mediaFileCount = stagedFiles - tableFileCount;
            long mediaByteCount = stagedBytes - tableByteCount;
            double[] cpBoth = new double[rounds];
            double[] stageBoth = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                cpBoth[round] = cpTable[round] + cpShards[round];
                stageBoth[round] = stageTable[round] + stageShards[round];
            }
            out.printf("%n%-58s %9s %10s %10s %8s  %s%n", "stage from file://, page cache cold (median of " + rounds + ")", "seconds", "files/s",
                    "MB/s", "vs cp", "per round");
            row(out, "cp -r, packed set (" + mediaFileCount + " files)", median(cpShards), mediaFileCount, mediaByteCount, 1.0);
            row(out, "granary cache stage, packed set (SHA-256 of each shard)", median(stageShards), mediaFileCount, mediaByteCount,
                    ratios(cpShards, stageShards));
            row(out, "cp -r, table (" + tableFileCount + " files)", median(cpTable), tableFileCount, tableByteCount, 1.0);
            row(out, "granary cache stage, table (sizes, CRC32C)", median(stageTable), tableFileCount, tableByteCount, ratios(cpTable, stageTable));
            row(out, "cp -r, both (no verification)", median(cpBoth), stagedFiles, stagedBytes, 1.0);
            row(out, "granary cache stage, both (" + parallel + " at once, verified)", median(stageBoth), stagedFiles, stagedBytes,
                    ratios(cpBoth, stageBoth));
            out.printf(Locale.ROOT, "%nrestage, all cached: %.3f s in process (%.3f s per 10k files); %.2f s from the command line, JVM start included%n",
                    restageSeconds, restageSeconds * 10_000 / stagedFiles, cliRestage);
            out.flush();

            if (!options.flag("no-hdfs")) {
                hdfs(datasets, work, warehouse, shards, table, media, stagedFiles, stagedBytes, parallel, out);
            }

            try (NodeCache cache = new NodeCache(base, datasets, new Configuration())) {
                start = System.nanoTime();
                NodeCache.EvictResult evicted = cache.evict(table);
                double evictSeconds = seconds(start);
                out.printf(Locale.ROOT, "%nevict bench.many_files: %,d files (%s) in %.2f s: %,.0f evictions/s%n", evicted.entries(),
                        Sizes.format(evicted.bytes()), evictSeconds, evicted.entries() / evictSeconds);
            }
            out.printf("%npeers: %s; Hadoop %s%n", Shell.version("cp", "--version"), org.apache.hadoop.util.VersionInfo.getVersion());
        } finally {
            if (!options.flag("keep")) {
                FileTrees.delete(work);
            } else {
                out.printf("kept %s%n", work);
            }
        }
    }

    private static void hdfs(Datasets datasets, Path work, Path warehouse, Path shards, DatasetRef table, DatasetRef media,
                             long stagedFiles, long stagedBytes, int parallel, PrintWriter out) throws Exception {
        // the NameNode and DataNode log every block at WARN; the benchmark's own lines are what matter here
        org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.hadoop", org.apache.logging.log4j.Level.ERROR);
        Configuration conf = new Configuration();
        Path hdfsDir = work.resolve("hdfs");
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, hdfsDir.toString());
        conf.set("hadoop.security.authentication", "simple");
        conf.set("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", "20");
        long start = System.nanoTime();
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try {
            cluster.waitActive();
            String namenode = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
            var fs = cluster.getFileSystem();
            Path tableData = Path.of(datasets.load(table.dataset()).location()).resolve("data");
            String tableOnHdfs = "/bench/many_files/data";
            fs.mkdirs(new org.apache.hadoop.fs.Path("/bench/many_files"));
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(tableData.toUri()), new org.apache.hadoop.fs.Path(tableOnHdfs));
            fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(shards.toUri()), new org.apache.hadoop.fs.Path("/bench/shards"));
            out.printf("%nHDFS (MiniDFSCluster in this JVM, 1 DataNode on loopback): started and loaded in %.0f s%n", seconds(start));
            out.flush();

            cold(hdfsDir);
            Path copies = work.resolve("fsshell");
            Files.createDirectories(copies);
            start = System.nanoTime();
            check(ToolRunner.run(new FsShell(conf), new String[] {"-copyToLocal", namenode + tableOnHdfs, copies.resolve("table").toString()}) == 0,
                    "FsShell -copyToLocal failed");
            check(ToolRunner.run(new FsShell(conf), new String[] {"-copyToLocal", namenode + "/bench/shards", copies.resolve("shards").toString()}) == 0,
                    "FsShell -copyToLocal failed");
            double shellSeconds = seconds(start);
            FileTrees.delete(copies);

            cold(hdfsDir);
            CacheSettings settings = CacheSettings.defaults(work.resolve("cache-hdfs")).withQuota(4 * stagedBytes)
                    .withMirrors(Map.of(tableData.toString(), namenode + tableOnHdfs, shards.toString(), namenode + "/bench/shards"));
            double stageSeconds;
            try (NodeCache cache = new NodeCache(settings, datasets, conf)) {
                start = System.nanoTime();
                StageResult a = cache.stage(media, parallel, false);
                StageResult b = cache.stage(table, parallel, false);
                stageSeconds = seconds(start);
                check(a.filesCopied() + b.filesCopied() == stagedFiles, "staged " + (a.filesCopied() + b.filesCopied()) + " from HDFS");
            }
            FileTrees.delete(work.resolve("cache-hdfs"));
            out.printf("%n%-58s %9s %10s %10s %8s%n", "stage " + Sizes.format(stagedBytes) + " from hdfs://, page cache cold", "seconds",
                    "files/s", "MB/s", "vs peer");
            row(out, "FsShell -copyToLocal of the same trees (Hadoop's own)", shellSeconds, stagedFiles, stagedBytes, 1.0);
            row(out, "granary cache stage (sizes, SHA-256 of shards, CRC32C)", stageSeconds, stagedFiles, stagedBytes, shellSeconds / stageSeconds);
            out.flush();
        } finally {
            cluster.shutdown();
        }
    }

    /** Seconds of `granary cache stage` of both datasets in processes of their own (the launcher, as a user runs it), all cached. */
    private static double cliRestage(Path work, Path warehouse, Path cacheRoot, PrintWriter out) throws Exception {
        String home = System.getenv("GRANARY_HOME");
        if (home == null) {
            out.println("(GRANARY_HOME is not set: run through ./granary bench for the command-line restage)");
            return Double.NaN;
        }
        Path config = work.resolve("granary.yaml");
        Files.writeString(config, "data_dir: " + work + "\ncatalog: {warehouse: " + warehouse + "}\ncache: {root: " + cacheRoot + "}\n");
        long start = System.nanoTime();
        for (String ref : new String[] {"bench.many_files", "bench.media"}) {
            Process process = new ProcessBuilder(Path.of(home, "granary").toString(), "cache", "stage", ref, "--config", config.toString())
                    .redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0 || !output.contains("copied 0 files")) {
                throw new IllegalStateException("the command-line restage copied files or failed:\n" + output);
            }
        }
        return seconds(start);
    }

    /**
     * A table of many small data files: one real Parquet file of about {@code fileBytes} written
     * once, copied to {@code count} data file paths and appended in one commit (the cache copies
     * files by location, so copies of one file are as many files to it as different ones).
     */
    private static DatasetRef manyFileTable(Datasets datasets, DatasetName name, int count, long fileBytes, Path work) throws IOException {
        Table table = datasets.createEmpty(name, SCHEMA, Map.of());
        Random random = new Random(1);
        int rows = (int) Math.max(1, fileBytes / 1100);
        String first = table.locationProvider().newDataLocation("template-" + UUID.randomUUID() + ".parquet");
        DataWriter<Record> writer = Parquet.writeData(table.io().newOutputFile(first)).schema(SCHEMA)
                .createWriterFunc(GenericParquetWriter::create).withSpec(PartitionSpec.unpartitioned()).overwrite().build();
        try (writer) {
            for (int i = 0; i < rows; i++) {
                byte[] bytes = new byte[512];
                random.nextBytes(bytes);
                Record record = GenericRecord.create(SCHEMA);
                record.set(0, random.nextLong());
                record.set(1, java.util.HexFormat.of().formatHex(bytes));
                writer.write(record);
            }
        }
        DataFile template = writer.toDataFile();
        Path templatePath = Path.of(io.granary.cache.tier.Tiers.normalize(template.location()));
        List<DataFile> files = new ArrayList<>(count);
        files.add(template);
        for (int i = 1; i < count; i++) {
            String location = table.locationProvider().newDataLocation(String.format("part-%06d-%s.parquet", i, UUID.randomUUID()));
            Path copy = Path.of(io.granary.cache.tier.Tiers.normalize(location));
            Files.createDirectories(copy.getParent());
            Files.copy(templatePath, copy);
            files.add(DataFiles.builder(PartitionSpec.unpartitioned()).copy(template).withPath(location).build());
        }
        long snapshot = datasets.appendDataFiles(name, files, Provenance.of("bench", List.of()), Map.of());
        return DatasetRef.at(name, snapshot);
    }

    /** A packed set of incompressible 1-4 MB "recordings" adding up to {@code bytes}. */
    private static DatasetRef packedSet(Datasets datasets, DatasetName name, long bytes, long shardBytes, Path source, Path shards)
            throws IOException {
        Random random = new Random(2);
        byte[] pool = new byte[8 << 20];
        random.nextBytes(pool);
        long written = 0;
        for (int i = 0; written < bytes; i++) {
            int size = (1 << 20) + random.nextInt(3 << 20);
            Path file = source.resolve(String.format("spk%03d/utt%05d.wav", i / 100, i));
            Files.createDirectories(file.getParent());
            int offset = random.nextInt(pool.length - size);
            pool[offset] ^= (byte) i;
            try (OutputStream stream = Files.newOutputStream(file)) {
                stream.write(pool, offset, size);
            }
            written += size;
        }
        new Packer(datasets, false).pack(PackOptions.builder(source, shards).dataset(name).shardBytes(shardBytes).build());
        FileTrees.delete(source);
        return DatasetRef.latest(name);
    }

    private static void cold(Path... trees) throws Exception {
        PageCache.sync();
        for (Path tree : trees) {
            PageCache.evictTree(tree);
        }
    }

    private static void row(PrintWriter out, String what, double seconds, long files, long bytes, double ratio) {
        out.printf(Locale.ROOT, "%-58s %9.2f %,10.0f %,10.0f %7.2fx%n", what, seconds, files / seconds, bytes / seconds / 1e6, ratio);
    }

    /** A row whose ratio is the median of the rounds' ratios (each round's peer and stage ran back to back), with every round's. */
    private static void row(PrintWriter out, String what, double seconds, long files, long bytes, double[] ratios) {
        String each = java.util.Arrays.stream(ratios).mapToObj(r -> String.format(Locale.ROOT, "%.2fx", r))
                .collect(java.util.stream.Collectors.joining(" "));
        out.printf(Locale.ROOT, "%-58s %9.2f %,10.0f %,10.0f %7.2fx  %s%n", what, seconds, files / seconds, bytes / seconds / 1e6,
                median(ratios), each);
    }

    private static double[] ratios(double[] peer, double[] ours) {
        double[] ratios = new double[peer.length];
        for (int i = 0; i < peer.length; i++) {
            ratios[i] = peer[i] / ours[i];
        }
        return ratios;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static void check(boolean condition, String problem) {
        if (!condition) {
            throw new IllegalStateException(problem);
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
