package io.granary.packer.tar;

import io.granary.common.GranaryException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads a tar archive front to back: ustar headers, PAX extended headers (path, size) and GNU
 * long names, with every header checksum checked. Each {@link #next} skips whatever the caller
 * left unread of the previous member.
 */
public final class TarReader implements Closeable {

    private final InputStream in;
    private final String source;
    private final byte[] header = new byte[TarHeaders.BLOCK];
    private final byte[] scratch = new byte[64 << 10];
    private long offset;
    private long unreadData;
    private int unreadPadding;

    /** {@code source} names the archive in error messages. */
    public TarReader(InputStream in, String source) {
        this.in = in;
        this.source = source;
    }

    /** The next member, or empty at the end of the archive. Directories and links are returned too. */
    public Optional<TarEntry> next() throws IOException {
        skip(unreadData + unreadPadding);
        unreadData = 0;
        unreadPadding = 0;
        String longName = null;
        long paxSize = -1;
        while (true) {
            long headerOffset = offset;
            if (!readBlock(true)) {
                return Optional.empty();
            }
            if (isZero(header)) {
                return Optional.empty();
            }
            long expected = TarHeaders.checksum(header, 0);
            long stored = parseOctal(header, 148, 8, headerOffset, "checksum");
            if (expected != stored) {
                throw corrupt("bad header checksum at byte " + headerOffset + " (stored " + stored + ", computed " + expected + ")");
            }
            char type = (char) header[156];
            long size = parseOctal(header, 124, 12, headerOffset, "size");
            if (type == 'x' || type == 'g' || type == 'L') {
                byte[] body = readFully(size);
                skip(TarHeaders.padding(size));
                if (type == 'L') {
                    longName = cString(body, 0, body.length);
                } else if (type == 'x') {
                    PaxRecords records = PaxRecords.parse(body, source, headerOffset);
                    longName = records.path() != null ? records.path() : longName;
                    paxSize = records.size() >= 0 ? records.size() : paxSize;
                }
                continue;
            }
            if (paxSize >= 0) {
                size = paxSize;
            }
            String name = longName != null ? longName : ustarName(header);
            long mtime = parseOctal(header, 136, 12, headerOffset, "mtime");
            long dataSize = (type == '5' || type == '1' || type == '2') ? 0 : size;
            unreadData = dataSize;
            unreadPadding = TarHeaders.padding(dataSize);
            return Optional.of(new TarEntry(name, type, dataSize, headerOffset, offset, mtime));
        }
    }

    /** The rest of the current member's data. */
    public byte[] readData() throws IOException {
        byte[] data = readFully(unreadData);
        unreadData = 0;
        return data;
    }

    /** Reads up to {@code length} bytes of the current member's data into {@code buffer}; -1 at its end. */
    public int readData(byte[] buffer, int at, int length) throws IOException {
        if (unreadData == 0) {
            return -1;
        }
        int wanted = (int) Math.min(length, unreadData);
        int read = in.read(buffer, at, wanted);
        if (read < 0) {
            throw corrupt("truncated: the archive ends inside a member at byte " + offset);
        }
        offset += read;
        unreadData -= read;
        return read;
    }

    /** Bytes consumed so far. */
    public long offset() {
        return offset;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private boolean readBlock(boolean endAllowed) throws IOException {
        int filled = 0;
        while (filled < header.length) {
            int read = in.read(header, filled, header.length - filled);
            if (read < 0) {
                if (filled == 0 && endAllowed) {
                    return false;
                }
                throw corrupt("truncated: the archive ends inside a header at byte " + (offset + filled));
            }
            filled += read;
        }
        offset += header.length;
        return true;
    }

    private byte[] readFully(long size) throws IOException {
        if (size > Integer.MAX_VALUE - 16) {
            throw corrupt("a member of " + size + " bytes is too large to read into memory");
        }
        byte[] data = new byte[(int) size];
        int filled = 0;
        while (filled < data.length) {
            int read = in.read(data, filled, data.length - filled);
            if (read < 0) {
                throw corrupt("truncated: the archive ends inside a member at byte " + (offset + filled));
            }
            filled += read;
        }
        offset += data.length;
        return data;
    }

    /** Reads past {@code count} bytes (rather than skipping), so that a digest under the stream sees every byte. */
    private void skip(long count) throws IOException {
        long left = count;
        while (left > 0) {
            int read = in.read(scratch, 0, (int) Math.min(scratch.length, left));
            if (read < 0) {
                throw corrupt("truncated: the archive ends inside a member at byte " + (offset + count - left));
            }
            left -= read;
        }
        offset += count;
    }

    private long parseOctal(byte[] block, int at, int width, long headerOffset, String field) {
        if ((block[at] & 0x80) != 0) {
            long value = block[at] & 0x7f;
            for (int i = 1; i < width; i++) {
                value = (value << 8) | (block[at + i] & 0xff);
            }
            return value;
        }
        long value = 0;
        boolean digits = false;
        for (int i = 0; i < width; i++) {
            byte b = block[at + i];
            if (b == 0 || (b == ' ' && digits)) {
                break;
            }
            if (b == ' ') {
                continue;
            }
            if (b < '0' || b > '7') {
                throw corrupt("bad " + field + " field in the header at byte " + headerOffset);
            }
            value = value * 8 + (b - '0');
            digits = true;
        }
        return value;
    }

    private static String ustarName(byte[] block) {
        String name = cString(block, 0, 100);
        boolean ustar = block[257] == 'u' && block[258] == 's' && block[259] == 't' && block[260] == 'a' && block[261] == 'r';
        String prefix = ustar ? cString(block, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String cString(byte[] bytes, int at, int max) {
        int end = at;
        while (end < at + max && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, at, end - at, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private GranaryException corrupt(String what) {
        return new GranaryException(source + " is not a valid tar archive: " + what,
                "the shard is damaged or was not written by a tar tool; `granary pack verify DIR` checks every shard");
    }

}
