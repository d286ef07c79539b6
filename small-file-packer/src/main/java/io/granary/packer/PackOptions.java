package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What `granary pack` was asked to do. Everything but {@code threads} takes part in the run's
 * identity: a rerun with the same options resumes an interrupted pack, other options are refused.
 *
 * @param shardBytes target shard size; a shard closes before a sample that would take it past this
 * @param samplesPerShard at most this many samples per shard, 0 for no limit
 */
public record PackOptions(Path source, Path out, String prefix, long shardBytes, int samplesPerShard, int threads,
                          boolean shuffle, long seed, Optional<Path> metadata, Optional<DatasetName> dataset,
                          boolean dedup, boolean skipUnreadable, boolean followSymlinks) {

    public static final long DEFAULT_SHARD_BYTES = 512L << 20;
    public static final String DEFAULT_PREFIX = "shard";

    public PackOptions {
        source = source.toAbsolutePath().normalize();
        out = out.toAbsolutePath().normalize();
        if (shardBytes < 4096) {
            throw new GranaryException("--shard-size " + shardBytes + " is too small", "give at least 4k; the default is 512m");
        }
        if (samplesPerShard < 0) {
            throw new GranaryException("--samples-per-shard must be positive", "leave it out for no limit");
        }
        if (threads < 1) {
            throw new GranaryException("--threads must be at least 1", "");
        }
        if (!prefix.matches("[A-Za-z0-9_.-]+")) {
            throw new GranaryException("shard prefix '" + prefix + "' may hold only letters, digits, '_', '-' and '.'", "e.g. --prefix train");
        }
        if (out.equals(source)) {
            throw new GranaryException("--out " + out + " is the source directory itself", "write the shards to another directory");
        }
        if (source.startsWith(out)) {
            throw new GranaryException("--out " + out + " contains the source directory " + source, "write the shards elsewhere");
        }
    }

    /** Defaults for everything but the source and output directories. */
    public static PackOptions of(Path source, Path out) {
        return new PackOptions(source, out, DEFAULT_PREFIX, DEFAULT_SHARD_BYTES, 0,
                Math.max(2, Runtime.getRuntime().availableProcessors()), false, 0, Optional.empty(), Optional.empty(),
                false, false, false);
    }

    public PackOptions withShardBytes(long bytes) {
        return new PackOptions(source, out, prefix, bytes, samplesPerShard, threads, shuffle, seed, metadata, dataset, dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withSamplesPerShard(int samples) {
        return new PackOptions(source, out, prefix, shardBytes, samples, threads, shuffle, seed, metadata, dataset, dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withThreads(int count) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, count, shuffle, seed, metadata, dataset, dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withShuffle(long shuffleSeed) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, true, shuffleSeed, metadata, dataset, dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withMetadata(Path file) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, Optional.of(file), dataset, dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withDataset(DatasetName name) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, Optional.of(name), dedup, skipUnreadable, followSymlinks);
    }

    public PackOptions withDedup(boolean on) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, dataset, on, skipUnreadable, followSymlinks);
    }

    public PackOptions withSkipUnreadable(boolean on) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, dataset, dedup, on, followSymlinks);
    }

    public PackOptions withFollowSymlinks(boolean on) {
        return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, dataset, dedup, skipUnreadable, on);
    }

    public PackOptions withPrefix(String name) {
        return new PackOptions(source, out, name, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, dataset, dedup, skipUnreadable, followSymlinks);
    }

    /** The options that decide what gets written, as text: equal for a rerun that may resume. */
    String identity() {
        return String.join("|", source.toString(), prefix, Long.toString(shardBytes), Integer.toString(samplesPerShard),
                Boolean.toString(shuffle), Long.toString(shuffle ? seed : 0), metadata.map(p -> p.toAbsolutePath().normalize().toString()).orElse(""),
                dataset.map(DatasetName::toString).orElse(""), Boolean.toString(dedup), Boolean.toString(skipUnreadable),
                Boolean.toString(followSymlinks));
    }
}
