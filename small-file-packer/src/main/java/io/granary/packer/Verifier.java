package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.packer.tar.TarEntry;
import io.granary.packer.tar.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Checks a shard set against its manifest and index: every shard's size and SHA-256, and every
 * member's name, position, size and CRC32C, in one pass over each shard. Names the first bad
 * member of each damaged shard.
 */
public final class Verifier {

    /** What verification found: one line per damaged or missing shard. */
    public record Report(int shards, long members, long bytes, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private Verifier() {}

    public static Report verify(ShardSet set, Progress progress) {
        List<String> problems = new ArrayList<>();
        long members = 0;
        long bytes = 0;
        List<IndexRow> rows = set.index().rows();
        int row = 0;
        ShardInput.Buffers buffers = new ShardInput.Buffers();
        for (Manifest.Shard shard : set.manifest().shards()) {
            int first = row;
            while (row < rows.size() && rows.get(row).shard().equals(shard.name())) {
                row++;
            }
            List<IndexRow> shardRows = rows.subList(first, row);
            Optional<String> problem = verifyShard(set.dir(), shard, shardRows, buffers, progress);
            problem.ifPresent(problems::add);
            members += shardRows.size();
            bytes += shard.bytes();
        }
        if (row != rows.size()) {
            problems.add("the index has " + (rows.size() - row) + " rows for shards the manifest does not list (first: "
                    + rows.get(row).member() + " in " + rows.get(row).shard() + ")");
        }
        return new Report(set.manifest().shards().size(), members, bytes, problems);
    }

    private static Optional<String> verifyShard(Path dir, Manifest.Shard shard, List<IndexRow> rows, ShardInput.Buffers buffers,
                                                Progress progress) {
        Path file = dir.resolve(shard.name());
        if (!Files.isRegularFile(file)) {
            return Optional.of(shard.name() + ": missing");
        }
        MessageDigest digest = ShardPlan.sha256();
        String firstBad = null;
        try (InputStream raw = ShardInput.open(file, buffers);
             DigestInputStream hashed = new DigestInputStream(raw, digest);
             TarReader reader = new TarReader(hashed, file.toString())) {
            CRC32C crc = new CRC32C();
            byte[] chunk = new byte[1 << 20];
            int next = 0;
            try {
                for (Optional<TarEntry> entry = reader.next(); entry.isPresent(); entry = reader.next()) {
                    if (!entry.get().isRegularFile()) {
                        continue;
                    }
                    TarEntry member = entry.get();
                    if (next >= rows.size()) {
                        firstBad = firstBad != null ? firstBad : "member " + member.name() + " at byte " + member.headerOffset() + " is not in the index";
                        continue;
                    }
                    IndexRow expected = rows.get(next++);
                    crc.reset();
                    for (int read = reader.readData(chunk, 0, chunk.length); read >= 0; read = reader.readData(chunk, 0, chunk.length)) {
                        crc.update(chunk, 0, read);
                    }
                    if (firstBad == null) {
                        firstBad = compare(member, expected, crc.getValue());
                    }
                    progress.advance(1, member.size());
                }
            } catch (GranaryException e) {
                firstBad = firstBad != null ? firstBad : e.getMessage().replace(file + " is not a valid tar archive: ", "");
            }
            if (firstBad == null && next < rows.size()) {
                firstBad = "member " + rows.get(next).member() + " is in the index but not in the shard";
            }
            byte[] rest = new byte[1 << 16];
            while (hashed.read(rest) >= 0) {
                // hash to the end of the file
            }
        } catch (IOException e) {
            return Optional.of(shard.name() + ": cannot read (" + e.getMessage() + ")");
        }
        String sha = HexFormat.of().formatHex(digest.digest());
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            size = -1;
        }
        if (firstBad != null) {
            return Optional.of(shard.name() + ": " + firstBad);
        }
        if (size != shard.bytes()) {
            return Optional.of(shard.name() + ": " + size + " bytes, the manifest says " + shard.bytes());
        }
        if (!sha.equals(shard.sha256())) {
            return Optional.of(shard.name() + ": SHA-256 " + sha + " differs from the manifest's " + shard.sha256()
                    + " (the members are intact: the damage is in padding or headers)");
        }
        return Optional.empty();
    }

    private static String compare(TarEntry member, IndexRow expected, long crc) {
        if (!member.name().equals(expected.member())) {
            return "member " + member.name() + " at byte " + member.headerOffset() + " should be " + expected.member();
        }
        if (member.dataOffset() != expected.offset() || member.size() != expected.size()) {
            return "member " + member.name() + " is at byte " + member.dataOffset() + " with " + member.size()
                    + " bytes, the index says byte " + expected.offset() + " with " + expected.size();
        }
        if (crc != expected.crc32c()) {
            return "member " + member.name() + " (byte " + member.dataOffset() + ") is corrupt: CRC32C "
                    + Long.toHexString(crc) + ", the index says " + Long.toHexString(expected.crc32c());
        }
        return null;
    }
}
