package io.granary.packer;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A shard read front to back, with a helper thread reading ahead so that the disk works while
 * the reader parses. Where the file system allows it, the helper reads with direct I/O into a
 * few aligned buffers that it hands over: a shard is read once per pass, and on machines like
 * the CI one, filling the page cache costs more CPU than the disk takes to deliver the bytes.
 * Elsewhere it reads ahead through the page cache.
 */
final class ShardInput {

    static final int CHUNK = 8 << 20;
    private static final int ALIGNMENT = 4096;

    private ShardInput() {}

    /** Aligned buffers for direct reads, reused from shard to shard by one reader. */
    static final class Buffers {
        private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(3);

        Buffers() {
            for (int i = 0; i < 3; i++) {
                free.add(ByteBuffer.allocateDirect(CHUNK + ALIGNMENT).alignedSlice(ALIGNMENT).limit(CHUNK).slice());
            }
        }
    }

    /** Opens a shard for one sequential pass. */
    static InputStream open(Path shard, Buffers buffers) throws IOException {
        FileChannel direct;
        try {
            direct = FileChannel.open(shard, StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException e) {
            return new Buffered(shard);
        }
        return new Direct(direct, buffers, shard);
    }

    static InputStream open(Path shard) throws IOException {
        return open(shard, new Buffers());
    }

    /** Direct reads of whole chunks on a helper thread, handed to the reader through a queue. */
    private static final class Direct extends InputStream {
        private static final ByteBuffer END = ByteBuffer.allocate(0);

        private final FileChannel channel;
        private final Buffers buffers;
        private final BlockingQueue<ByteBuffer> filled = new ArrayBlockingQueue<>(4);
        private final Thread reader;
        private volatile IOException failure;
        private ByteBuffer current;
        private boolean ended;

        Direct(FileChannel channel, Buffers buffers, Path shard) {
            this.channel = channel;
            this.buffers = buffers;
            this.reader = new Thread(this::readAhead, "granary-shard-read-" + shard.getFileName());
            reader.setDaemon(true);
            reader.start();
        }

        private void readAhead() {
            ByteBuffer inHand = null;
            try {
                long size = channel.size();
                for (long position = 0; position < size; ) {
                    inHand = buffers.free.take();
                    inHand.clear();
                    while (inHand.hasRemaining() && position + inHand.position() < size) {
                        int read = channel.read(inHand, position + inHand.position());
                        if (read <= 0) {
                            break;
                        }
                    }
                    inHand.flip();
                    if (inHand.remaining() == 0) {
                        break;
                    }
                    position += inHand.remaining();
                    filled.put(inHand);
                    inHand = null;
                }
            } catch (IOException e) {
                failure = e;
            } catch (InterruptedException e) {
                return;
            } finally {
                if (inHand != null) {
                    buffers.free.add(inHand);
                }
            }
            try {
                filled.put(END);
            } catch (InterruptedException e) {
                // closed meanwhile
            }
        }

        private boolean nextChunk() throws IOException {
            if (current != null) {
                buffers.free.add(current);
                current = null;
            }
            if (ended) {
                return false;
            }
            try {
                ByteBuffer next = filled.take();
                if (next == END) {
                    ended = true;
                    if (failure != null) {
                        throw failure;
                    }
                    return false;
                }
                current = next;
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading a shard");
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] target, int at, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            while (current == null || !current.hasRemaining()) {
                if (!nextChunk()) {
                    return -1;
                }
            }
            int count = Math.min(length, current.remaining());
            current.get(target, at, count);
            return count;
        }

        @Override
        public void close() throws IOException {
            reader.interrupt();
            try {
                reader.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (current != null) {
                buffers.free.add(current);
                current = null;
            }
            ByteBuffer left;
            while ((left = filled.poll()) != null) {
                if (left != END) {
                    buffers.free.add(left);
                }
            }
            channel.close();
        }
    }

    /** Reads through the page cache, with a helper thread reading up to 64 MiB ahead to keep the disk busy. */
    private static final class Buffered extends InputStream {
        private static final int CHUNKS_AHEAD = 8;

        private final InputStream in;
        private final Semaphore credits = new Semaphore(CHUNKS_AHEAD);
        private final Thread prefetcher;
        private long consumed;
        private long released;

        Buffered(Path shard) throws IOException {
            this.in = new BufferedInputStream(Files.newInputStream(shard), 1 << 20);
            this.prefetcher = new Thread(() -> prefetch(shard), "granary-shard-prefetch");
            prefetcher.setDaemon(true);
            prefetcher.start();
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
                // closed early, or the shard is unreadable: the reader meets the same error itself
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
}
