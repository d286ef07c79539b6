package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A finished shard set (the --out directory of a pack): its manifest, its index, and random
 * access by key. A lookup is one positional read of the sample's byte range (its members are
 * adjacent in one shard), checked against the index's CRC32Cs. Thread-safe.
 */
public final class ShardSet implements Closeable {

    private final Path dir;
    private final Manifest manifest;
    private final Map<String, OpenShard> shards = new HashMap<>();
    private volatile PackIndex index;

    private ShardSet(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    public static ShardSet open(Path dir) {
        return new ShardSet(dir.toAbsolutePath().normalize(), Manifest.read(dir));
    }

    /** The shard set of a dataset made by `granary pack --dataset`. */
    public static ShardSet open(Datasets datasets, DatasetName name) {
        String location = datasets.load(name).properties().get(ShardDatasets.LOCATION);
        if (location == null) {
            throw new GranaryException("dataset " + name + " is not a shard set", "give a dataset made by `granary pack --dataset`, or a shard directory");
        }
        return open(Path.of(location));
    }

    /** Where a dataset made by `granary pack --dataset` keeps its shards; empty for any other dataset. */
    public static java.util.Optional<String> locationOf(org.apache.iceberg.Table table) {
        return java.util.Optional.ofNullable(table.properties().get(ShardDatasets.LOCATION));
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The shard files, in order. */
    public List<Path> shardFiles() {
        return manifest.shards().stream().map(shard -> dir.resolve(shard.name())).toList();
    }

    /** The index, read on first use. */
    public PackIndex index() {
        PackIndex loaded = index;
        if (loaded == null) {
            synchronized (this) {
                if (index == null) {
                    index = PackIndex.load(dir, manifest);
                }
                loaded = index;
            }
        }
        return loaded;
    }

    /** Reads the sample with this key: one seek, one read. */
    public Sample get(String key) {
        List<IndexRow> rows = index().sample(key);
        if (rows.isEmpty()) {
            throw GranaryException.notFound("no sample '" + key + "' in " + dir,
                    "keys are paths without extension, e.g. spk1/utt7; list some with `granary pack ls " + dir + "`");
        }
        return read(rows);
    }

    Sample read(List<IndexRow> rows) {
        IndexRow first = rows.get(0);
        IndexRow last = rows.get(rows.size() - 1);
        long start = first.offset();
        long end = last.offset() + last.size();
        if (end - start > Integer.MAX_VALUE - 16) {
            throw new GranaryException("sample " + first.key() + " is too large to read at once (" + (end - start) + " bytes)",
                    "unpack it with `granary pack unpack`");
        }
        byte[] bytes = shard(first.shard()).read(start, (int) (end - start), first.key());
        List<Sample.Member> members = new ArrayList<>(rows.size());
        CRC32C crc = new CRC32C();
        for (IndexRow row : rows) {
            int at = (int) (row.offset() - start);
            crc.reset();
            crc.update(bytes, at, (int) row.size());
            if (crc.getValue() != row.crc32c()) {
                throw new GranaryException("member " + row.member() + " of " + row.shard() + " is corrupt (CRC32C "
                        + Long.toHexString(crc.getValue()) + ", index says " + Long.toHexString(row.crc32c()) + ")",
                        "run `granary pack verify " + dir + "` and repack the damaged shard");
            }
            // one member (the usual case) keeps the array it was read into; several share one read and are split
            byte[] data = rows.size() == 1 ? bytes : java.util.Arrays.copyOfRange(bytes, at, at + (int) row.size());
            members.add(new Sample.Member(row.member(), row.extension(), data));
        }
        return new Sample(first.key(), members);
    }

    /**
     * An open shard. Shards up to 1 GiB are memory-mapped, so that a lookup is one copy out of the
     * page cache with no system call; larger ones are read with positional reads.
     */
    private final class OpenShard {
        private static final long MAP_LIMIT = 1L << 30;

        private final String name;
        private final FileChannel channel;
        private final long size;
        private final MappedByteBuffer mapped;

        OpenShard(String name, FileChannel channel) throws IOException {
            this.name = name;
            this.channel = channel;
            this.size = channel.size();
            this.mapped = size <= MAP_LIMIT && size > 0 ? channel.map(FileChannel.MapMode.READ_ONLY, 0, size) : null;
        }

        byte[] read(long start, int length, String key) {
            if (start + length > size) {
                throw new GranaryException("shard " + name + " ends before sample " + key + " (truncated to " + size + " bytes)",
                        "run `granary pack verify " + dir + "`");
            }
            byte[] bytes = new byte[length];
            try {
                if (mapped != null) {
                    mapped.get((int) start, bytes, 0, length);
                    return bytes;
                }
                ByteBuffer target = ByteBuffer.wrap(bytes);
                while (target.hasRemaining()) {
                    if (channel.read(target, start + target.position()) < 0) {
                        throw new GranaryException("shard " + name + " ends before sample " + key + " (truncated)",
                                "run `granary pack verify " + dir + "`");
                    }
                }
                return bytes;
            } catch (IOException | InternalError e) {
                // InternalError: the mapped file was cut short under us
                throw new GranaryException("cannot read sample " + key + " from shard " + name + ": " + e.getMessage(),
                        "run `granary pack verify " + dir + "`", e);
            }
        }
    }

    private OpenShard shard(String shard) {
        synchronized (shards) {
            OpenShard open = shards.get(shard);
            if (open == null) {
                try {
                    open = new OpenShard(shard, FileChannel.open(dir.resolve(shard), StandardOpenOption.READ));
                } catch (NoSuchFileException e) {
                    throw GranaryException.notFound("shard " + shard + " listed in " + dir.resolve(Manifest.FILE_NAME) + " is missing",
                            "restore it, or repack the shard set");
                } catch (IOException e) {
                    throw new GranaryException("cannot open shard " + dir.resolve(shard) + ": " + e.getMessage(), "check its permissions", e);
                }
                shards.put(shard, open);
            }
            return open;
        }
    }

    /** Reads samples front to back from the shards (see {@link SampleReader} for shuffling). */
    public SampleReader samples() {
        return SampleReader.of(shardFiles());
    }

    @Override
    public void close() throws IOException {
        synchronized (shards) {
            for (OpenShard shard : shards.values()) {
                shard.channel.close();
            }
            shards.clear();
        }
    }
}
