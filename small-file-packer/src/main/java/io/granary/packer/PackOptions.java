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
            throw new GranaryException("--shard-size " + io.granary.common.Sizes.format(shardBytes) + " is too small",
                    "give at least 4k; the default is 512m");
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
        return builder(source, out).build();
    }

    public static Builder builder(Path source, Path out) {
        return new Builder(source, out);
    }

    public Builder toBuilder() {
        Builder builder = new Builder(source, out).prefix(prefix).shardBytes(shardBytes).samplesPerShard(samplesPerShard)
                .threads(threads).dedup(dedup).skipUnreadable(skipUnreadable).followSymlinks(followSymlinks);
        builder.shuffle = shuffle;
        builder.seed = seed;
        builder.metadata = metadata;
        builder.dataset = dataset;
        return builder;
    }

    /** Options with their defaults, set one by one; {@link #build} checks them. */
    public static final class Builder {
        private final Path source;
        private final Path out;
        private String prefix = DEFAULT_PREFIX;
        private long shardBytes = DEFAULT_SHARD_BYTES;
        private int samplesPerShard;
        private int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private boolean shuffle;
        private long seed;
        private Optional<Path> metadata = Optional.empty();
        private Optional<DatasetName> dataset = Optional.empty();
        private boolean dedup;
        private boolean skipUnreadable;
        private boolean followSymlinks;

        private Builder(Path source, Path out) {
            this.source = source;
            this.out = out;
        }

        public Builder prefix(String value) {
            prefix = value;
            return this;
        }

        public Builder shardBytes(long value) {
            shardBytes = value;
            return this;
        }

        public Builder samplesPerShard(int value) {
            samplesPerShard = value;
            return this;
        }

        public Builder threads(int value) {
            threads = value;
            return this;
        }

        /** Shuffle samples across shards with this seed. */
        public Builder shuffle(long withSeed) {
            shuffle = true;
            seed = withSeed;
            return this;
        }

        public Builder metadata(Path file) {
            metadata = Optional.of(file);
            return this;
        }

        public Builder dataset(DatasetName name) {
            dataset = Optional.of(name);
            return this;
        }

        public Builder dedup(boolean value) {
            dedup = value;
            return this;
        }

        public Builder skipUnreadable(boolean value) {
            skipUnreadable = value;
            return this;
        }

        public Builder followSymlinks(boolean value) {
            followSymlinks = value;
            return this;
        }

        public PackOptions build() {
            return new PackOptions(source, out, prefix, shardBytes, samplesPerShard, threads, shuffle, seed, metadata, dataset,
                    dedup, skipUnreadable, followSymlinks);
        }
    }

    /** The options that decide what gets written, as text: equal for a rerun that may resume. */
    String identity() {
        return String.join("|", source.toString(), prefix, Long.toString(shardBytes), Integer.toString(samplesPerShard),
                Boolean.toString(shuffle), Long.toString(shuffle ? seed : 0), metadata.map(p -> p.toAbsolutePath().normalize().toString()).orElse(""),
                dataset.map(DatasetName::toString).orElse(""), Boolean.toString(dedup), Boolean.toString(skipUnreadable),
                Boolean.toString(followSymlinks));
    }
}
