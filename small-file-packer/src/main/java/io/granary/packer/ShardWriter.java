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
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes one shard at a time as a tar in WebDataset layout, computing each member's CRC32C (and
 * with --dedup its SHA-256) and the shard's SHA-256 while the bytes pass through one buffer. The
 * file is written as {@code NAME.partial}, fsynced, and only then renamed to its final name.
 * One writer per thread; its buffer is reused from shard to shard.
 */
final class ShardWriter {

    private static final int BUFFER_BYTES = 8 << 20;

    private final Path out;
    private final String prefix;
    private final boolean followSymlinks;
    private final boolean skipUnreadable;
    private final boolean memberHashes;
    private final Progress progress;
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private final CRC32C crc = new CRC32C();
    private final MessageDigest memberDigest = ShardPlan.sha256();

    private FileChannel channel;
    private MessageDigest shardDigest;
    private int buffered;
    private long position;

    /** With {@code memberHashes} (--dedup) every member's SHA-256 goes into the index too. */
    ShardWriter(Path out, String prefix, boolean followSymlinks, boolean skipUnreadable, boolean memberHashes, Progress progress) {
        this.out = out;
        this.prefix = prefix;
        this.followSymlinks = followSymlinks;
        this.skipUnreadable = skipUnreadable;
        this.memberHashes = memberHashes;
        this.progress = progress;
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
        try (FileChannel file = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            channel = file;
            for (SourceSample sample : plan.samples()) {
                FileChannel[] inputs = open(sample, unreadable);
                if (inputs == null) {
                    continue;
                }
                try {
                    writeSample(sample, inputs, name, rows);
                    samples++;
                } finally {
                    for (FileChannel input : inputs) {
                        input.close();
                    }
                }
                progress.advance(sample.members().size(), sample.bytes());
            }
            append(TarHeaders.endOfArchive(), 0, 2 * TarHeaders.BLOCK);
            flush();
            file.force(true);
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

    /** Opens every member of a sample, so that an unreadable one leaves the sample out before any byte is written. */
    private FileChannel[] open(SourceSample sample, List<String> unreadable) throws IOException {
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
        long[] sizes = new long[inputs.length];
        byte[][] headers = new byte[inputs.length][];
        long total = 0;
        for (int i = 0; i < inputs.length; i++) {
            sizes[i] = inputs[i].size();
            headers[i] = TarHeaders.regularFile(members.get(i).name(), sizes[i], members.get(i).mtimeMillis() / 1000);
            total += headers[i].length + sizes[i] + TarHeaders.padding(sizes[i]);
        }
        if (total > buffer.length - buffered) {
            flush();
        }
        for (int i = 0; i < inputs.length; i++) {
            SourceMember member = members.get(i);
            long headerOffset = position;
            append(headers[i], 0, headers[i].length);
            crc.reset();
            memberDigest.reset();
            if (total <= buffer.length) {
                int dataStart = buffered;
                readFully(inputs[i], member, (int) sizes[i]);
                crc.update(buffer, dataStart, (int) sizes[i]);
                if (memberHashes) {
                    memberDigest.update(buffer, dataStart, (int) sizes[i]);
                }
            } else {
                stream(inputs[i], member, sizes[i]);
            }
            int padding = TarHeaders.padding(sizes[i]);
            if (buffered + padding > buffer.length) {
                flush();
            }
            Arrays.fill(buffer, buffered, buffered + padding, (byte) 0);
            buffered += padding;
            position += padding;
            String sha = memberHashes ? HexFormat.of().formatHex(memberDigest.digest()) : null;
            rows.add(new IndexRow(sample.key(), member.extension(), member.name(), shardName, headerOffset,
                    headerOffset + headers[i].length, sizes[i], crc.getValue(), member.mtimeMillis(), sha));
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

    private void readFully(FileChannel input, SourceMember member, int size) throws IOException {
        ByteBuffer target = ByteBuffer.wrap(buffer, buffered, size);
        while (target.hasRemaining()) {
            if (input.read(target) < 0) {
                throw changed(member);
            }
        }
        buffered += size;
        position += size;
    }

    private void append(byte[] bytes, int at, int length) throws IOException {
        if (buffered + length > buffer.length) {
            flush();
        }
        System.arraycopy(bytes, at, buffer, buffered, length);
        buffered += length;
        position += length;
    }

    private void flush() throws IOException {
        shardDigest.update(buffer, 0, buffered);
        ByteBuffer pending = ByteBuffer.wrap(buffer, 0, buffered);
        while (pending.hasRemaining()) {
            channel.write(pending);
        }
        buffered = 0;
    }

    private static GranaryException changed(SourceMember member) {
        return new GranaryException(member.path() + " shrank while it was being packed",
                "let whatever writes the source tree finish, then rerun the same command: finished shards are kept");
    }
}
