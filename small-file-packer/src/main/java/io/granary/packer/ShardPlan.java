package io.granary.packer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** The samples one shard will hold, and a fingerprint of them (names, sizes, mtimes) to recognise it on resume. */
record ShardPlan(int number, List<SourceSample> samples, String fingerprint, long files, long bytes) {

    static ShardPlan of(int number, List<SourceSample> samples) {
        MessageDigest digest = sha256();
        long files = 0;
        long bytes = 0;
        for (SourceSample sample : samples) {
            for (SourceMember member : sample.members()) {
                digest.update(member.name().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update((member.size() + ":" + member.mtimeMillis() + "\n").getBytes(StandardCharsets.US_ASCII));
                files++;
                bytes += member.size();
            }
        }
        return new ShardPlan(number, List.copyOf(samples), HexFormat.of().formatHex(digest.digest()), files, bytes);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
