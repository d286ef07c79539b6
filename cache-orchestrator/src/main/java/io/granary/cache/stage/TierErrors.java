package io.granary.cache.stage;

import io.granary.common.GranaryException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;

/** The messages for a remote file the cache cannot read. */
final class TierErrors {

    private TierErrors() {}

    static GranaryException unreadable(URI file, IOException e) {
        if (e instanceof FileNotFoundException || e instanceof NoSuchFileException) {
            return GranaryException.notFound("the remote file " + file + " is missing",
                    "the snapshot's files were deleted (expired, or the dataset dropped) or a cache.mirrors entry points elsewhere");
        }
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read " + file + " from its remote tier: "
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                "check that the storage behind " + file.getScheme() + "://" + (file.getAuthority() == null ? "" : file.getAuthority())
                        + " is up and reachable from this node, and the cache.mirrors settings", e);
    }
}
