package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.packer.tar.TarHeaders;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * Writes one shard at a time as a tar in WebDataset layout, computing each member's CRC32C (and
 * with --dedup its SHA-256) and the shard's SHA-256 while the bytes pass through one buffer. The
 * file is written as {@code NAME.partial}, fsynced, and only then renamed to its final name.
 * One writer per thread; its buffer is reused from shard to shard.
 */
final class ShardWriter {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ShardWriter.class);

    private static final int BUFFER_BYTES = 8 << 20;
    /** Samples up to this size are read ahead whole by the reader pool; larger ones are streamed. */
    private static final int READ_AHEAD_SAMPLE_BYTES = 4 << 20;
    private static final int READ_AHEAD_SAMPLES = 256;
    private static final long READ_AHEAD_BYTES = 32L << 20;

    private final Path out;
    private final String prefix;
    private final boolean followSymlinks;
    private final boolean skipUnreadable;
    private final boolean memberHashes;
    private final Progress progress;
    private final ExecutorService readers;
    private static final byte[] ZEROS = new byte[TarHeaders.BLOCK];
    /** Direct I/O needs buffers, lengths and offsets in whole blocks; 4 KiB covers the usual file systems. */
    private static final int DIRECT_ALIGNMENT = 4096;
    private ByteBuffer aligned;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private final CRC32C crc = new CRC32C();
    private final MessageDigest memberDigest = ShardPlan.sha256();

    private FileChannel channel;
    private MessageDigest shardDigest;
    private int buffered;
    private long position;

    /** With {@code memberHashes} (--dedup) every member's SHA-256 goes into the index too. */
    ShardWriter(Path out, String prefix, boolean followSymlinks, boolean skipUnreadable, boolean memberHashes, Progress progress,
                ExecutorService readers) {
        this.readers = readers;
        this.out = out;
        this.prefix = prefix;
        this.followSymlinks = followSymlinks;
        this.skipUnreadable = skipUnreadable;
        this.memberHashes = memberHashes;
        this.progress = progress;
    }

    String prefix() {
        return prefix;
    }

    static String shardName(String prefix, int number) {
        return String.format("%s-%06d.tar", prefix, number);
    }

    /** What writing a shard produced: its manifest entry, its index rows, and the samples left out as unreadable. */
    record Written(Manifest.Shard shard, List<IndexRow> rows, List<String> unreadable) {}

    Written write(ShardPlan plan) throws IOException {
        String name = shardName(prefix, plan.number());
        Path target = out.resolve(name);
        Path partial = out.resolve(name + ".partial");
        List<IndexRow> rows = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        int samples = 0;
        shardDigest = ShardPlan.sha256();
        buffered = 0;
        position = 0;
        try (FileChannel file = openShard(partial)) {
            channel = file;
            ReadAhead ahead = new ReadAhead(plan.samples());
            for (Loaded loaded = ahead.next(); loaded != null; loaded = ahead.next()) {
                SourceSample sample = loaded.sample();
                if (loaded.unreadable() != null) {
                    unreadable.add(loaded.unreadable());
                    continue;
                }
                if (loaded.data() != null) {
                    writeLoaded(sample, loaded.data(), name, rows);
                } else {
                    List<String> reasons = new ArrayList<>();
                    FileChannel[] inputs = open(sample, reasons);
                    if (inputs == null) {
                        unreadable.addAll(reasons);
                        continue;
                    }
                    try {
                        writeSample(sample, inputs, name, rows);
                    } finally {
                        for (FileChannel input : inputs) {
                            input.close();
                        }
                    }
                }
                samples++;
                progress.advance(sample.members().size(), sample.bytes());
            }
            append(TarHeaders.endOfArchive(), 0, 2 * TarHeaders.BLOCK);
            flush(true);
            long syncStart = System.nanoTime();
            file.force(true);
            LOG.debug("{}: {} bytes, fsync {} ms", name, position, (System.nanoTime() - syncStart) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        } finally {
            channel = null;
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        String sha256 = HexFormat.of().formatHex(shardDigest.digest());
        Manifest.Shard shard = new Manifest.Shard(name, position, samples, rows.size(), sha256, IndexFiles.partName(plan.number()));
        return new Written(shard, rows, unreadable);
    }

    /**
     * Opens the shard for direct I/O where the file system allows it: the shard bypasses the page
     * cache, which on this kind of machine costs more CPU than the disk takes to write it, and
     * the fsync at the end has almost nothing left to do. Elsewhere (tmpfs) it is a plain file.
     */
    private FileChannel openShard(Path partial) throws IOException {
        Files.deleteIfExists(partial);
        try {
            FileChannel direct = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT);
            if (aligned == null) {
                aligned = ByteBuffer.allocateDirect(BUFFER_BYTES + 2 * DIRECT_ALIGNMENT).alignedSlice(DIRECT_ALIGNMENT);
            }
            return direct;
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("no direct I/O for {} ({}); writing through the page cache", partial, e.toString());
            aligned = null;
            return FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        }
    }

    /** A sample read ahead: its members' bytes, or why it is unreadable, or neither when it is too large and is streamed. */
    private record Loaded(SourceSample sample, byte[][] data, String unreadable) {}

    /**
     * Reads the next samples of a shard on the reader pool while the writer thread works on the
     * current one: small files read from a cold disk are latency-bound, and many reads in flight
     * keep the disk busy. Bounded in samples and bytes.
     */
    private final class ReadAhead {
        private final Iterator<SourceSample> samples;
        private final Deque<Future<Loaded>> window = new ArrayDeque<>();
        private long windowBytes;

        ReadAhead(List<SourceSample> samples) {
            this.samples = samples.iterator();
            fill();
        }

        Loaded next() throws IOException {
            Future<Loaded> head = window.poll();
            if (head == null) {
                return null;
            }
            Loaded loaded;
            try {
                loaded = head.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while reading " + out);
            } catch (ExecutionException e) {
                window.forEach(f -> f.cancel(true));
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IllegalStateException(e.getCause());
            }
            if (loaded.data() != null) {
                windowBytes -= loaded.sample().bytes();
            }
            fill();
            return loaded;
        }

        private void fill() {
            while (samples.hasNext() && window.size() < READ_AHEAD_SAMPLES && windowBytes < READ_AHEAD_BYTES) {
                SourceSample sample = samples.next();
                if (sample.bytes() > READ_AHEAD_SAMPLE_BYTES) {
                    window.add(java.util.concurrent.CompletableFuture.completedFuture(new Loaded(sample, null, null)));
                    continue;
                }
                windowBytes += sample.bytes();
                window.add(readers.submit(() -> load(sample)));
            }
        }
    }

    /** Reads a whole small sample (on a reader thread). */
    private Loaded load(SourceSample sample) throws IOException {
        List<String> reasons = new ArrayList<>(1);
        FileChannel[] inputs = open(sample, reasons);
        if (inputs == null) {
            return new Loaded(sample, new byte[0][], reasons.get(0));
        }
        try {
            byte[][] data = new byte[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                long size = inputs[i].size();
                if (size > READ_AHEAD_SAMPLE_BYTES) {
                    return new Loaded(sample, null, null);
                }
                data[i] = new byte[(int) size];
                ByteBuffer target = ByteBuffer.wrap(data[i]);
                while (target.hasRemaining()) {
                    if (inputs[i].read(target) < 0) {
                        throw changed(sample.members().get(i));
                    }
                }
            }
            return new Loaded(sample, data, null);
        } finally {
            for (FileChannel input : inputs) {
                input.close();
            }
        }
    }

    /** Writes a sample whose bytes were read ahead. */
    private void writeLoaded(SourceSample sample, byte[][] data, String shardName, List<IndexRow> rows) throws IOException {
        List<SourceMember> members = sample.members();
        for (int i = 0; i < data.length; i++) {
            SourceMember member = members.get(i);
            byte[] header = TarHeaders.regularFile(member.name(), data[i].length, member.mtimeMillis() / 1000);
            long headerOffset = position;
            append(header, 0, header.length);
            append(data[i], 0, data[i].length);
            crc.reset();
            crc.update(data[i]);
            String sha = null;
            if (memberHashes) {
                memberDigest.reset();
                sha = HexFormat.of().formatHex(memberDigest.digest(data[i]));
            }
            int padding = TarHeaders.padding(data[i].length);
            append(ZEROS, 0, padding);
            rows.add(new IndexRow(sample.key(), member.extension(), member.name(), shardName, headerOffset,
                    headerOffset + header.length, data[i].length, crc.getValue(), member.mtimeMillis(), sha));
        }
    }

    /** Opens every member of a sample, so that an unreadable one leaves the sample out before any byte is written. */
    private FileChannel[] open(SourceSample sample, List<String> unreadable) throws IOException {
        // runs on reader threads too: touches only final fields
        List<SourceMember> members = sample.members();
        FileChannel[] inputs = new FileChannel[members.size()];
        OpenOption[] options = followSymlinks ? new OpenOption[] {StandardOpenOption.READ}
                : new OpenOption[] {StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS};
        for (int i = 0; i < inputs.length; i++) {
            Path path = members.get(i).path();
            try {
                inputs[i] = FileChannel.open(path, options);
            } catch (AccessDeniedException | NoSuchFileException e) {
                for (int j = 0; j < i; j++) {
                    inputs[j].close();
                }
                String why = e instanceof NoSuchFileException ? "it disappeared while packing" : "permission denied";
                if (!skipUnreadable) {
                    throw new GranaryException("cannot read " + path + ": " + why,
                            "fix it, or pass --skip-unreadable to leave out the samples of such files and list them");
                }
                unreadable.add(path + ": " + why);
                return null;
            }
        }
        return inputs;
    }

    /** Writes a sample: through the buffer in one piece when it fits, streamed through it otherwise. */
    private void writeSample(SourceSample sample, FileChannel[] inputs, String shardName, List<IndexRow> rows) throws IOException {
        List<SourceMember> members = sample.members();
        for (int i = 0; i < inputs.length; i++) {
            SourceMember member = members.get(i);
            long size = inputs[i].size();
            byte[] header = TarHeaders.regularFile(member.name(), size, member.mtimeMillis() / 1000);
            long headerOffset = position;
            append(header, 0, header.length);
            crc.reset();
            memberDigest.reset();
            stream(inputs[i], member, size);
            append(ZEROS, 0, TarHeaders.padding(size));
            String sha = memberHashes ? HexFormat.of().formatHex(memberDigest.digest()) : null;
            rows.add(new IndexRow(sample.key(), member.extension(), member.name(), shardName, headerOffset,
                    headerOffset + header.length, size, crc.getValue(), member.mtimeMillis(), sha));
        }
    }

    /** Streams a member larger than the buffer into the shard, chunk by chunk. */
    private void stream(FileChannel input, SourceMember member, long size) throws IOException {
        long left = size;
        while (left > 0) {
            if (buffered == buffer.length) {
                flush();
            }
            int chunk = (int) Math.min(left, buffer.length - buffered);
            int read = input.read(ByteBuffer.wrap(buffer, buffered, chunk));
            if (read < 0) {
                throw changed(member);
            }
            crc.update(buffer, buffered, read);
            if (memberHashes) {
                memberDigest.update(buffer, buffered, read);
            }
            buffered += read;
            position += read;
            left -= read;
        }
    }

    private void append(byte[] bytes, int at, int length) throws IOException {
        int done = 0;
        while (done < length) {
            if (buffered == buffer.length) {
                flush();
            }
            int chunk = Math.min(length - done, buffer.length - buffered);
            System.arraycopy(bytes, at + done, buffer, buffered, chunk);
            buffered += chunk;
            position += chunk;
            done += chunk;
        }
    }

    /**
     * Writes the buffer out. With direct I/O only whole blocks can be written: the unaligned tail
     * stays at the start of the buffer for the next flush, unless this is the last one, which is
     * padded to a block and cut back to the shard's length.
     */
    private void flush(boolean last) throws IOException {
        if (aligned == null) {
            shardDigest.update(buffer, 0, buffered);
            ByteBuffer pending = ByteBuffer.wrap(buffer, 0, buffered);
            while (pending.hasRemaining()) {
                channel.write(pending);
            }
            buffered = 0;
            return;
        }
        int whole = last ? buffered : buffered - buffered % DIRECT_ALIGNMENT;
        if (whole == 0) {
            return;
        }
        shardDigest.update(buffer, 0, whole);
        int length = last ? (whole + DIRECT_ALIGNMENT - 1) / DIRECT_ALIGNMENT * DIRECT_ALIGNMENT : whole;
        aligned.clear();
        aligned.put(buffer, 0, whole);
        while (aligned.position() < length) {
            aligned.put((byte) 0);
        }
        aligned.flip();
        while (aligned.hasRemaining()) {
            channel.write(aligned);
        }
        System.arraycopy(buffer, whole, buffer, 0, buffered - whole);
        buffered -= whole;
        if (last) {
            channel.truncate(position);
        }
    }

    private void flush() throws IOException {
        flush(false);
    }

    private static GranaryException changed(SourceMember member) {
        return new GranaryException(member.path() + " shrank while it was being packed",
                "let whatever writes the source tree finish, then rerun the same command: finished shards are kept");
    }
}
