package io.granary.packer;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** The content hash of a source sample for --dedup: each member's SHA-256, combined as {@link ContentHashes#sampleHash}. */
final class SampleHashing {

    private SampleHashing() {}

    /** The sample's hash, or null when a file is unreadable and such samples are skipped (it is then listed). */
    static String hash(SourceSample sample, boolean followSymlinks, boolean skipUnreadable, List<String> unreadable) {
        OpenOption[] options = followSymlinks ? new OpenOption[0] : new OpenOption[] {LinkOption.NOFOLLOW_LINKS};
        List<String> extensions = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        byte[] chunk = new byte[1 << 16];
        for (SourceMember member : sample.members()) {
            MessageDigest digest = ShardPlan.sha256();
            try (InputStream in = Files.newInputStream(member.path(), options)) {
                for (int read = in.read(chunk); read >= 0; read = in.read(chunk)) {
                    digest.update(chunk, 0, read);
                }
            } catch (AccessDeniedException | NoSuchFileException e) {
                String why = e instanceof NoSuchFileException ? "it disappeared while packing" : "permission denied";
                if (!skipUnreadable) {
                    throw new GranaryException("cannot read " + member.path() + ": " + why,
                            "fix it, or pass --skip-unreadable to leave out the samples of such files and list them");
                }
                unreadable.add(member.path() + ": " + why);
                return null;
            } catch (IOException e) {
                throw new GranaryException("cannot read " + member.path() + ": " + e.getMessage(), "check the source disk", e);
            }
            extensions.add(member.extension());
            hashes.add(HexFormat.of().formatHex(digest.digest()));
        }
        return ContentHashes.sampleHash(extensions, hashes);
    }
}
