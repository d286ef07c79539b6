package io.granary.dataset.ingest;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Cuts a text file's bytes into chunks of whole records, so that records can be parsed on many
 * threads while one thread reads. Records end at a newline; with {@code quotes}, a newline inside
 * a double-quoted CSV field does not end one (RFC 4180: a quote inside quotes is doubled, which
 * leaves the quoted state as it was). Each chunk knows the line it starts on, for error messages.
 */
final class ByteChunker implements Closeable {

    /** Whole records in {@code data[0, length)}; the first starts on line {@code firstLine}. */
    record Chunk(byte[] data, int length, long firstLine) {}

    static final int CHUNK_BYTES = 1 << 20;
    /** A record this long is a broken file (most likely an unclosed quote), not data. */
    static final int MAX_RECORD_BYTES = 64 << 20;

    private final InputStream in;
    private final boolean quotes;
    private final String name;
    private byte[] carry = new byte[0];
    private int carryLength;
    private long nextLine = 1;
    private boolean started;
    private boolean ended;

    ByteChunker(InputStream in, boolean quotes, String name) {
        this.in = in;
        this.quotes = quotes;
        this.name = name;
    }

    /** The next chunk, or null at the end of the input. The last may end without a newline. */
    Chunk next() throws IOException {
        if (ended) {
            return null;
        }
        byte[] buffer = Arrays.copyOf(carry, Math.max(CHUNK_BYTES, carryLength * 2));
        int length = carryLength;
        while (true) {
            int read = in.readNBytes(buffer, length, buffer.length - length);
            length += read;
            boolean eof = length < buffer.length;
            if (!started) {
                started = true;
                length = skipByteOrderMark(buffer, length);
            }
            int boundary = eof ? length : lastBoundary(buffer, length);
            if (boundary > 0 || eof) {
                if (eof) {
                    ended = true;
                }
                if (boundary == 0) {
                    return null;
                }
                carryLength = length - boundary;
                carry = Arrays.copyOfRange(buffer, boundary, length);
                long firstLine = nextLine;
                nextLine += count(buffer, boundary, (byte) '\n');
                return new Chunk(buffer, boundary, firstLine);
            }
            // One record longer than the buffer: grow it and read on, within reason.
            if (buffer.length >= MAX_RECORD_BYTES) {
                throw new io.granary.common.GranaryException(
                        name + " line " + nextLine + ": a record runs on for more than " + (MAX_RECORD_BYTES >> 20) + " MiB",
                        quotes ? "look for a quote that is never closed at or after that line" : "records end at a newline");
            }
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
    }

    /** The offset just after the last newline that ends a record, or 0 if there is none. */
    private int lastBoundary(byte[] buffer, int length) {
        if (!quotes) {
            for (int i = length - 1; i >= 0; i--) {
                if (buffer[i] == '\n') {
                    return i + 1;
                }
            }
            return 0;
        }
        boolean quoted = false;
        int boundary = 0;
        for (int i = 0; i < length; i++) {
            byte b = buffer[i];
            if (b == '"') {
                quoted = !quoted;
            } else if (b == '\n' && !quoted) {
                boundary = i + 1;
            }
        }
        return boundary;
    }

    private static int skipByteOrderMark(byte[] buffer, int length) {
        if (length >= 3 && (buffer[0] & 0xFF) == 0xEF && (buffer[1] & 0xFF) == 0xBB && (buffer[2] & 0xFF) == 0xBF) {
            System.arraycopy(buffer, 3, buffer, 0, length - 3);
            return length - 3;
        }
        return length;
    }

    static int count(byte[] data, int length, byte value) {
        int count = 0;
        for (int i = 0; i < length; i++) {
            if (data[i] == value) {
                count++;
            }
        }
        return count;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
