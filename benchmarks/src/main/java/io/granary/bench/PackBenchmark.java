package io.granary.bench;

import io.granary.cli.Context;
import io.granary.cli.bench.Benchmark;
import io.granary.common.FileTrees;
import io.granary.common.Sizes;
import io.granary.packer.Manifest;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import io.granary.packer.Sample;
import io.granary.packer.SampleReader;
import io.granary.packer.ShardSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * `granary bench pack`: 100k generated files of 4-64 KB, packed by Granary and by `tar cf` from
 * a cold page cache; every sample iterated from the shards by Granary and by `tar -xOf`, and the
 * loose files read one by one, each cold; then random lookups by key through the index.
 */
public final class PackBenchmark implements Benchmark {

    @Override
    public String name() {
        return "pack";
    }

    @Override
    public String description() {
        return "small-file packer: files/s against tar cf, cold iteration against tar -xOf and loose files, random lookups/s (--files 100000)";
    }

    @Override
    public void run(Context context, List<String> args) throws Exception {
        BenchOptions options = new BenchOptions(name(), args, Set.of("files", "min-kb", "max-kb", "lookups", "keep", "threads"));
        int files = (int) options.number("files", 100_000);
        int minKb = (int) options.number("min-kb", 4);
        int maxKb = (int) options.number("max-kb", 64);
        int lookups = (int) options.number("lookups", 200_000);
        PrintWriter out = context.out();
        Path work = context.config().dataDir().toAbsolutePath().resolve("bench/pack-" + System.currentTimeMillis());
        Path source = work.resolve("src");
        Path shards = work.resolve("shards");
        Path tarFile = work.resolve("tar/all.tar");
        try {
            long start = System.nanoTime();
            long bytes = generate(source, files, minKb, maxKb);
            out.printf("pack benchmark: %,d files of %d-%d KB (%s) generated in %.1f s, %d cores%n", files, minKb, maxKb,
                    Sizes.format(bytes), seconds(start), Runtime.getRuntime().availableProcessors());
            out.flush();

            coldSource(source);
            Files.createDirectories(tarFile.getParent());
            start = System.nanoTime();
            Shell.run(source, "tar", "cf", tarFile.toString(), ".");
            double tarSeconds = seconds(start);
            Files.delete(tarFile);

            coldSource(source);
            PackOptions.Builder packOptions = PackOptions.builder(source, shards);
            if (options.number("threads", 0) > 0) {
                packOptions.threads((int) options.number("threads", 0));
            }
            start = System.nanoTime();
            Packer.Result packed = new Packer(null, false).pack(packOptions.build());
            double packSeconds = seconds(start);
            Manifest manifest = packed.manifest();
            out.printf("%n%-44s %10s %12s %9s%n", "pack " + Sizes.format(bytes) + ", source cold", "seconds", "files/s", "vs peer");
            row(out, "tar cf (no index, no checksums, no fsync)", tarSeconds, files, 1.0);
            row(out, "granary pack (" + manifest.shards().size() + " shards, index, CRC32C, SHA-256, fsync)", packSeconds, files,
                    tarSeconds / packSeconds);
            out.flush();

            List<Path> shardFiles = manifest.shards().stream().map(s -> shards.resolve(s.name())).toList();
            coldShards(shardFiles);
            start = System.nanoTime();
            for (Path shard : shardFiles) {
                runToDevNull(shards, "tar", "-xOf", shard.toString());
            }
            double tarIterate = seconds(start);

            coldShards(shardFiles);
            start = System.nanoTime();
            long iterated = 0;
            long samples = 0;
            try (SampleReader reader = SampleReader.of(shardFiles)) {
                while (reader.hasNext()) {
                    Sample sample = reader.next();
                    iterated += sample.bytes();
                    samples++;
                }
            }
            double granaryIterate = seconds(start);

            coldSource(source);
            start = System.nanoTime();
            long looseRead = readLoose(source);
            double looseSeconds = seconds(start);
            if (iterated != bytes || looseRead != bytes || samples != files) {
                throw new IllegalStateException("read " + iterated + " / " + looseRead + " bytes of " + bytes);
            }
            out.printf("%n%-44s %10s %12s %9s%n", "read every sample, page cache cold", "seconds", "files/s", "vs tar");
            row(out, "tar -xOf each shard > /dev/null", tarIterate, files, 1.0);
            row(out, "granary SampleReader (1 thread)", granaryIterate, files, tarIterate / granaryIterate);
            row(out, "loose files, one by one (1 thread)", looseSeconds, files, tarIterate / looseSeconds);
            out.printf("granary iteration vs the loose files: %.1fx%n", looseSeconds / granaryIterate);
            out.flush();

            try (ShardSet set = ShardSet.open(shards)) {
                start = System.nanoTime();
                List<String> keys = set.index().keys();
                double indexSeconds = seconds(start);
                for (Path shard : shardFiles) {
                    try (InputStream warm = Files.newInputStream(shard)) {
                        warm.transferTo(java.io.OutputStream.nullOutputStream());
                    }
                }
                lookups(set, keys, lookups / 10, 1);
                out.printf("%nrandom lookups by key (index in memory: %,d keys loaded in %.2f s; shards in the page cache)%n",
                        keys.size(), indexSeconds);
                for (int threads : new int[] {1, Runtime.getRuntime().availableProcessors()}) {
                    start = System.nanoTime();
                    lookups(set, keys, lookups, threads);
                    double lookupSeconds = seconds(start);
                    out.printf(Locale.ROOT, "  %d thread%s: %,.0f lookups/s (each one read of the sample's byte range, CRC32C checked)%n", threads,
                            threads == 1 ? "" : "s", lookups / lookupSeconds);
                }
            }
            out.printf("%npeers: %s%n", Shell.version("tar", "--version"));
        } finally {
            if (!options.flag("keep")) {
                FileTrees.delete(work);
            } else {
                out.printf("kept %s%n", work);
            }
        }
    }

    private static void row(PrintWriter out, String what, double seconds, long files, double ratio) {
        out.printf(Locale.ROOT, "%-44s %10.2f %,12.0f %8.2fx%n", what, seconds, files / seconds, ratio);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Files of random sizes and incompressible content, 100 per directory. */
    private static long generate(Path source, int files, int minKb, int maxKb) throws IOException {
        SplittableRandom random = new SplittableRandom(42);
        byte[] pool = new byte[(maxKb << 10) * 2];
        new Random(1).nextBytes(pool);
        long total = 0;
        for (int i = 0; i < files; i++) {
            Path dir = source.resolve(String.format("d%04d", i / 100));
            if (i % 100 == 0) {
                Files.createDirectories(dir);
            }
            int size = (minKb << 10) + random.nextInt(((maxKb - minKb) << 10) + 1);
            int offset = random.nextInt(pool.length - size);
            pool[offset] = (byte) i;
            try (var stream = Files.newOutputStream(dir.resolve(String.format("f%07d.bin", i)))) {
                stream.write(pool, offset, size);
            }
            total += size;
        }
        return total;
    }

    private static void coldSource(Path source) throws Exception {
        PageCache.sync();
        PageCache.evictTree(source);
    }

    private static void coldShards(List<Path> shards) throws Exception {
        PageCache.sync();
        shards.forEach(PageCache::evict);
    }

    private static long readLoose(Path source) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(source)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        long total = 0;
        for (Path file : files) {
            total += Files.readAllBytes(file).length;
        }
        return total;
    }

    private static void lookups(ShardSet set, List<String> keys, int count, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                results.add(pool.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    long read = 0;
                    for (int i = 0; i < count / threads; i++) {
                        read += set.get(keys.get(random.nextInt(keys.size()))).bytes();
                    }
                    return read;
                }));
            }
            for (Future<Long> result : results) {
                result.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs a command with its output going to /dev/null, as `CMD > /dev/null` would. */
    private static void runToDevNull(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile())
                .redirectOutput(ProcessBuilder.Redirect.to(new java.io.File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
    }
}
