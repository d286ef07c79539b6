package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.packer.tar.TarEntry;
import io.granary.packer.tar.TarReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Random;

/**
 * Reads samples sequentially from a list of shards, grouping adjacent members by key as
 * WebDataset does. Optionally shard-shuffled (the order of shards) and buffer-shuffled (each sample
 * drawn at random from a buffer of the next N), both from one seed, so a run is repeatable.
 */
public final class SampleReader implements Iterator<Sample>, Closeable {


    private final List<Path> shards;
    private final Random random;
    private final int bufferSize;
    private final List<Sample> buffer = new ArrayList<>();
    private final ShardInput.Buffers buffers = new ShardInput.Buffers();
    private int nextShard;
    private TarReader reader;
    private String readerSource;
    private Pending pending;
    private Sample lookahead;

    private record Pending(String key, String extension, String name, byte[] data) {}

    private SampleReader(List<Path> shards, Random random, int bufferSize) {
        this.shards = shards;
        this.random = random;
        this.bufferSize = bufferSize;
    }

    /** Samples in shard order, as packed. */
    public static SampleReader of(List<Path> shards) {
        return new SampleReader(List.copyOf(shards), null, 0);
    }

    /** Shards in a shuffled order, and samples drawn at random from a buffer of {@code bufferSize}. */
    public static SampleReader shuffled(List<Path> shards, int bufferSize, long seed) {
        if (bufferSize < 1) {
            throw new GranaryException("the shuffle buffer needs at least one sample", "e.g. 1000");
        }
        Random random = new Random(seed);
        List<Path> order = new ArrayList<>(shards);
        Collections.shuffle(order, random);
        return new SampleReader(List.copyOf(order), random, bufferSize);
    }

    @Override
    public boolean hasNext() {
        if (lookahead != null) {
            return true;
        }
        lookahead = random == null ? readSample() : drawSample();
        return lookahead != null;
    }

    @Override
    public Sample next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Sample sample = lookahead;
        lookahead = null;
        return sample;
    }

    private Sample drawSample() {
        while (buffer.size() < bufferSize) {
            Sample sample = readSample();
            if (sample == null) {
                break;
            }
            buffer.add(sample);
        }
        if (buffer.isEmpty()) {
            return null;
        }
        int pick = random.nextInt(buffer.size());
        Sample chosen = buffer.get(pick);
        buffer.set(pick, buffer.get(buffer.size() - 1));
        buffer.remove(buffer.size() - 1);
        return chosen;
    }

    /** The next sample in shard order, or null at the end of the last shard. */
    private Sample readSample() {
        try {
            if (pending == null && !advance()) {
                return null;
            }
            String key = pending.key();
            List<Sample.Member> members = new ArrayList<>();
            while (pending != null && pending.key().equals(key)) {
                members.add(new Sample.Member(pending.name(), pending.extension(), pending.data()));
                pending = null;
                if (!advanceWithinShard()) {
                    break;
                }
            }
            return new Sample(key, members);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shard " + readerSource, e);
        }
    }

    /** Loads the next member into {@code pending}, moving on to later shards as each ends. */
    private boolean advance() throws IOException {
        while (true) {
            if (reader != null && advanceWithinShard()) {
                return true;
            }
            if (nextShard >= shards.size()) {
                return false;
            }
            Path shard = shards.get(nextShard++);
            if (reader != null) {
                reader.close();
            }
            try {
                reader = new TarReader(ShardInput.open(shard, buffers), shard.toString());
            } catch (NoSuchFileException e) {
                throw GranaryException.notFound("shard " + shard + " is missing", "restore it, or repack the shard set");
            }
            readerSource = shard.toString();
        }
    }

    /** Loads the next file member of the current shard; false at its end. */
    private boolean advanceWithinShard() throws IOException {
        if (reader == null) {
            return false;
        }
        while (true) {
            Optional<TarEntry> entry = reader.next();
            if (entry.isEmpty()) {
                reader.close();
                reader = null;
                return false;
            }
            if (!entry.get().isRegularFile()) {
                continue;
            }
            Optional<SampleKeys.KeyAndExtension> split = SampleKeys.split(entry.get().name());
            if (split.isEmpty()) {
                continue;
            }
            pending = new Pending(split.get().key(), split.get().extension(), entry.get().name(), reader.readData());
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }
}
