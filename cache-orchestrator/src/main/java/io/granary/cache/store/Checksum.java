package io.granary.cache.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The checksum an entry is kept with, computed while its bytes pass: SHA-256 where identity
 * matters (shards, whose manifest records it; generated files, named by it), CRC32C otherwise.
 */
public final class Checksum {

    public static final String SHA256 = "sha256";
    public static final String CRC32C = "crc32c";

    private final String kind;
    private final MessageDigest digest;
    private final CRC32C crc;

    private Checksum(String kind) {
        this.kind = kind;
        this.digest = SHA256.equals(kind) ? sha256() : null;
        this.crc = digest == null ? new CRC32C() : null;
    }

    /** SHA-256 when {@code sha256} is true, else CRC32C. */
    public static Checksum of(boolean sha256) {
        return new Checksum(sha256 ? SHA256 : CRC32C);
    }

    public static Checksum of(String kind) {
        return new Checksum(kind);
    }

    public String kind() {
        return kind;
    }

    public void update(byte[] bytes, int offset, int length) {
        if (digest != null) {
            digest.update(bytes, offset, length);
        } else {
            crc.update(bytes, offset, length);
        }
    }

    public void update(ByteBuffer bytes) {
        if (digest != null) {
            digest.update(bytes);
        } else {
            crc.update(bytes);
        }
    }

    /** The value, as entries record it; call once, at the end. */
    public String hex() {
        return digest != null ? HexFormat.of().formatHex(digest.digest()) : Long.toHexString(crc.getValue());
    }

    /** A file's length and checksum, read front to back. */
    public record OfFile(long length, String hex) {}

    public static OfFile ofFile(Path file, String kind) throws IOException {
        Checksum checksum = of(kind);
        byte[] buffer = new byte[1 << 20];
        long length = 0;
        try (InputStream in = Files.newInputStream(file)) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                checksum.update(buffer, 0, read);
                length += read;
            }
        }
        return new OfFile(length, checksum.hex());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
