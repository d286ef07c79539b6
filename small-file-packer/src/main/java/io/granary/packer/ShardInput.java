package io.granary.packer;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Semaphore;

/**
 * A shard read front to back, with a helper thread that reads up to 64 MiB ahead of the reader
 * so that the disk works while the reader parses: one synchronous reader alone leaves a cold disk
 * idle between its requests and gets half of what the disk can give.
 */
final class ShardInput extends InputStream {

    private static final int CHUNK = 4 << 20;
    private static final int CHUNKS_AHEAD = 16;

    private final InputStream in;
    private final Semaphore credits = new Semaphore(CHUNKS_AHEAD);
    private final Thread prefetcher;
    private long consumed;
    private long released;

    private ShardInput(Path shard) throws IOException {
        this.in = new BufferedInputStream(Files.newInputStream(shard), 1 << 20);
        this.prefetcher = new Thread(() -> prefetch(shard), "granary-shard-prefetch");
        prefetcher.setDaemon(true);
        prefetcher.start();
    }

    static InputStream open(Path shard) throws IOException {
        return new ShardInput(shard);
    }

    private void prefetch(Path shard) {
        try (FileChannel channel = FileChannel.open(shard, StandardOpenOption.READ)) {
            ByteBuffer scratch = ByteBuffer.allocateDirect(CHUNK);
            long size = channel.size();
            for (long position = 0; position < size; position += CHUNK) {
                credits.acquire();
                scratch.clear();
                while (scratch.hasRemaining() && channel.read(scratch, position + scratch.position()) > 0) {
                    // fills the page cache for the reader; the bytes themselves are not needed
                }
            }
        } catch (IOException | InterruptedException e) {
            // closed early, or the shard is unreadable: the reader will meet the same error itself
        }
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            advance(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int at, int length) throws IOException {
        int read = in.read(buffer, at, length);
        if (read > 0) {
            advance(read);
        }
        return read;
    }

    private void advance(int count) {
        consumed += count;
        while (consumed - released >= CHUNK) {
            released += CHUNK;
            credits.release();
        }
    }

    @Override
    public void close() throws IOException {
        prefetcher.interrupt();
        in.close();
    }
}
