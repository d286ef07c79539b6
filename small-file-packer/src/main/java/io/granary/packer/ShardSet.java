package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
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
    private final Map<String, FileChannel> channels = new HashMap<>();
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
        // one member (the usual case) is read straight into its own array; several share one read and are split
        ByteBuffer bytes = ByteBuffer.allocate((int) (end - start));
        FileChannel channel = channel(first.shard());
        try {
            while (bytes.hasRemaining()) {
                if (channel.read(bytes, start + bytes.position()) < 0) {
                    throw new GranaryException("shard " + first.shard() + " ends before sample " + first.key() + " (truncated)",
                            "run `granary pack verify " + dir + "`");
                }
            }
        } catch (IOException e) {
            throw new GranaryException("cannot read shard " + first.shard() + ": " + e.getMessage(), "check " + dir, e);
        }
        List<Sample.Member> members = new ArrayList<>(rows.size());
        CRC32C crc = new CRC32C();
        for (IndexRow row : rows) {
            int at = (int) (row.offset() - start);
            crc.reset();
            crc.update(bytes.array(), at, (int) row.size());
            if (crc.getValue() != row.crc32c()) {
                throw new GranaryException("member " + row.member() + " of " + row.shard() + " is corrupt (CRC32C "
                        + Long.toHexString(crc.getValue()) + ", index says " + Long.toHexString(row.crc32c()) + ")",
                        "run `granary pack verify " + dir + "` and repack the damaged shard");
            }
            byte[] data = rows.size() == 1 ? bytes.array() : java.util.Arrays.copyOfRange(bytes.array(), at, at + (int) row.size());
            members.add(new Sample.Member(row.member(), row.extension(), data));
        }
        return new Sample(first.key(), members);
    }

    private FileChannel channel(String shard) {
        synchronized (channels) {
            FileChannel channel = channels.get(shard);
            if (channel == null) {
                try {
                    channel = FileChannel.open(dir.resolve(shard), StandardOpenOption.READ);
                } catch (NoSuchFileException e) {
                    throw GranaryException.notFound("shard " + shard + " listed in " + dir.resolve(Manifest.FILE_NAME) + " is missing",
                            "restore it, or repack the shard set");
                } catch (IOException e) {
                    throw new GranaryException("cannot open shard " + dir.resolve(shard) + ": " + e.getMessage(), "check its permissions", e);
                }
                channels.put(shard, channel);
            }
            return channel;
        }
    }

    /** Reads samples front to back from the shards (see {@link SampleReader} for shuffling). */
    public SampleReader samples() {
        return SampleReader.of(shardFiles());
    }

    boolean shardExists(Manifest.Shard shard) {
        return Files.isRegularFile(dir.resolve(shard.name()));
    }

    @Override
    public void close() throws IOException {
        synchronized (channels) {
            for (FileChannel channel : channels.values()) {
                channel.close();
            }
            channels.clear();
        }
    }
}
