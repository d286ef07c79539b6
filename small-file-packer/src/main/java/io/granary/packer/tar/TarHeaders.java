package io.granary.packer.tar;

import java.nio.charset.StandardCharsets;

/**
 * Encodes POSIX (ustar) member headers. A name that is not plain ASCII or longer than ustar's
 * 100 bytes, or a size beyond its 8 GiB, travels in a PAX extended header before the member, as
 * GNU tar and Python's tarfile (hence WebDataset) expect.
 */
public final class TarHeaders {

    public static final int BLOCK = 512;
    static final long MAX_USTAR_SIZE = 077777777777L;
    private static final int NAME_LENGTH = 100;

    private TarHeaders() {}

    /** The header blocks for a regular file: a PAX header first when needed, then the ustar header. */
    public static byte[] regularFile(String name, long size, long mtimeSeconds) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        boolean longName = nameBytes.length > NAME_LENGTH || !isAscii(nameBytes);
        boolean hugeSize = size > MAX_USTAR_SIZE;
        if (!longName && !hugeSize) {
            byte[] header = new byte[BLOCK];
            ustar(header, 0, nameBytes, size, mtimeSeconds, (byte) '0');
            return header;
        }
        StringBuilder records = new StringBuilder();
        if (longName) {
            records.append(paxRecord("path", name));
        }
        if (hugeSize) {
            records.append(paxRecord("size", Long.toString(size)));
        }
        byte[] pax = records.toString().getBytes(StandardCharsets.UTF_8);
        int paxBlocks = padded(pax.length) / BLOCK;
        byte[] blocks = new byte[BLOCK * (2 + paxBlocks)];
        byte[] paxName = ("PaxHeaders/" + asciiPrefix(name, 80)).getBytes(StandardCharsets.US_ASCII);
        ustar(blocks, 0, paxName, pax.length, mtimeSeconds, (byte) 'x');
        System.arraycopy(pax, 0, blocks, BLOCK, pax.length);
        byte[] shortName = asciiPrefix(name, NAME_LENGTH).getBytes(StandardCharsets.US_ASCII);
        ustar(blocks, BLOCK * (1 + paxBlocks), shortName, hugeSize ? 0 : size, mtimeSeconds, (byte) '0');
        return blocks;
    }

    /** The two zero blocks that end an archive. */
    public static byte[] endOfArchive() {
        return new byte[2 * BLOCK];
    }

    /** Bytes a member of this size occupies after its header, padded to whole blocks. */
    public static int padding(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    static int padded(long size) {
        return (int) (size + padding(size));
    }

    private static void ustar(byte[] block, int at, byte[] name, long size, long mtimeSeconds, byte type) {
        System.arraycopy(name, 0, block, at, Math.min(name.length, NAME_LENGTH));
        octal(block, at + 100, 8, 0644);
        octal(block, at + 108, 8, 0);
        octal(block, at + 116, 8, 0);
        octal(block, at + 124, 12, size);
        octal(block, at + 136, 12, Math.max(0, mtimeSeconds));
        block[at + 156] = type;
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, block, at + 257, 6);
        block[at + 263] = '0';
        block[at + 264] = '0';
        long checksum = checksum(block, at);
        octal(block, at + 148, 7, checksum);
        block[at + 155] = ' ';
    }

    /** The sum of the header's bytes with its checksum field taken as spaces. */
    static long checksum(byte[] block, int at) {
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (block[at + i] & 0xff);
        }
        return sum;
    }

    /** A zero-padded octal number in {@code width - 1} digits and a terminating NUL. */
    private static void octal(byte[] block, int at, int width, long value) {
        String digits = Long.toOctalString(value);
        int pad = width - 1 - digits.length();
        if (pad < 0) {
            throw new IllegalArgumentException(value + " does not fit a " + width + "-byte tar field");
        }
        for (int i = 0; i < width - 1; i++) {
            block[at + i] = (byte) (i < pad ? '0' : digits.charAt(i - pad));
        }
        block[at + width - 1] = 0;
    }

    /** "len key=value\n" where len counts the whole record, its own digits included. */
    private static String paxRecord(String key, String value) {
        int body = key.getBytes(StandardCharsets.UTF_8).length + value.getBytes(StandardCharsets.UTF_8).length + 3;
        int length = body + Integer.toString(body).length();
        if (Integer.toString(length).length() != Integer.toString(body).length()) {
            length++;
        }
        return length + " " + key + "=" + value + "\n";
    }

    private static String asciiPrefix(String name, int max) {
        StringBuilder ascii = new StringBuilder();
        for (int i = 0; i < name.length() && ascii.length() < max; i++) {
            char c = name.charAt(i);
            ascii.append(c >= 0x20 && c < 0x7f ? c : '_');
        }
        return ascii.toString();
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0x20) {
                return false;
            }
        }
        return true;
    }
}
