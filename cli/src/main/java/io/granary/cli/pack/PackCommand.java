package io.granary.cli.pack;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.Sizes;
import io.granary.dataset.DatasetName;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `granary pack SRC_DIR --out DIR`: small files into WebDataset shards; and the verbs that read shard sets. */
@Command(name = "pack", mixinStandardHelpOptions = true,
        description = {"Pack a tree of small files (audio, images, video) into WebDataset tar shards with an index and a manifest.",
            "Files sharing a path up to the first '.' of their name form one sample (spk1/utt7.wav + spk1/utt7.json).",
            "Rerun an interrupted pack with the same options to resume it; pack into the same --out again to add new files."},
        subcommands = {VerifyCommand.class, LsCommand.class, GetCommand.class, UnpackCommand.class})
public final class PackCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "SRC_DIR", arity = "0..1", description = "The directory whose files to pack.")
    Path source;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the shards, index/ and manifest.json go.")
    Path out;

    @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "512m", description = "Target shard size (default: ${DEFAULT-VALUE}); a sample never spans two shards.")
    String shardSize;

    @Option(names = "--samples-per-shard", paramLabel = "N", defaultValue = "0", description = "At most N samples per shard (default: no limit).")
    int samplesPerShard;

    @Option(names = "--threads", paramLabel = "N", description = "Shards written at once (default: the number of cores, at least 2).")
    Integer threads;

    @Option(names = "--shuffle", description = "Shuffle the samples across shards (holds the file list in memory).")
    boolean shuffle;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of --shuffle (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--metadata", paramLabel = "FILE", description = "CSV/TSV/JSONL/Parquet with a 'key' column: its other columns join the index.")
    Path metadata;

    @Option(names = "--dataset", paramLabel = "NS.NAME", description = "Register the shard set as a dataset (its index as an Iceberg table); packing again adds a snapshot.")
    String dataset;

    @Option(names = "--dedup", description = "Leave out samples whose content equals a sample already packed (SHA-256 of every member).")
    boolean dedup;

    @Option(names = "--skip-unreadable", description = "Leave out (and list) samples with unreadable files instead of failing.")
    boolean skipUnreadable;

    @Option(names = "--follow-symlinks", description = "Pack what symbolic links point to (default: links are an error).")
    boolean followSymlinks;

    @Option(names = "--prefix", paramLabel = "NAME", defaultValue = PackOptions.DEFAULT_PREFIX, description = "Shard names: NAME-000000.tar, ... (default: ${DEFAULT-VALUE}).")
    String prefix;

    @Override
    protected void run() throws Exception {
        if (source == null || out == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "pack needs SRC_DIR and --out DIR (or a verb: verify, ls, get, unpack)");
        }
        PackOptions.Builder options = PackOptions.builder(source, out)
                .prefix(prefix)
                .shardBytes(Sizes.parse(shardSize, "--shard-size"))
                .samplesPerShard(samplesPerShard)
                .dedup(dedup)
                .skipUnreadable(skipUnreadable)
                .followSymlinks(followSymlinks);
        if (threads != null) {
            options.threads(threads);
        }
        if (shuffle) {
            options.shuffle(seed);
        }
        if (metadata != null) {
            options.metadata(metadata);
        }
        if (dataset != null) {
            options.dataset(DatasetName.parse(dataset));
        }
        Packer packer = new Packer(dataset == null ? null : context().datasets(), true);
        print(out(), packer.pack(options.build()));
    }

    static void print(PrintWriter out, Packer.Result result) {
        if (result.shardsKept() > 0) {
            out.printf("resumed: %d shard%s finished by the interrupted run kept%n", result.shardsKept(), result.shardsKept() == 1 ? "" : "s");
        }
        if (result.alreadyPacked() > 0) {
            out.printf("%s samples already packed, skipped%n", Formats.count(result.alreadyPacked()));
        }
        int shards = result.shardsWritten() + result.shardsKept();
        if (shards == 0) {
            out.printf("nothing new to pack (%s samples in %d shards already)%n",
                    Formats.count(result.manifest().samples()), result.manifest().shards().size());
        } else {
            String rate = result.files() >= 1000 ? ", " + Formats.rate(result.files(), result.elapsed()) + " files/s" : "";
            out.printf("packed %s samples (%s files, %s) into %d shard%s in %s%s%n", Formats.count(result.samples()),
                    Formats.count(result.files()), Formats.bytes(result.bytes()), shards, shards == 1 ? "" : "s",
                    Formats.seconds(result.elapsed()), rate);
        }
        if (result.snapshotId() >= 0) {
            out.printf("dataset %s: snapshot %d%n", result.manifest().dataset(), result.snapshotId());
        }
        report(out, "duplicates left out (key = the packed sample with the same content)", result.duplicates());
        report(out, "unreadable, left out", result.unreadable());
        if (result.hiddenFiles() > 0) {
            out.printf("%d hidden files or directories (names starting with '.') left out%n", result.hiddenFiles());
        }
        out.printf("shard set: %s samples, %s files, %d shards, %s%n", Formats.count(result.manifest().samples()),
                Formats.count(result.manifest().members()), result.manifest().shards().size(), Formats.bytes(result.manifest().bytes()));
    }

    private static void report(PrintWriter out, String what, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        out.printf("%d %s:%n", items.size(), what);
        items.stream().limit(10).forEach(item -> out.println("  " + item));
        if (items.size() > 10) {
            out.printf("  ... and %d more%n", items.size() - 10);
        }
    }
}
