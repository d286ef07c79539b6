package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.mount.Mounts;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetRef;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Stage a snapshot if needed and show it read-only at TARGET: its files under stable names (a table's data files",
            "and _manifest.json; a packed set's shards, index and manifest), linked to the cache and pinned until `granary umount`."})
public final class MountCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "A dataset ref: NS.NAME, NS.NAME@TAG, @BRANCH or @SNAPSHOT_ID.")
    String ref;

    @Parameters(index = "1", paramLabel = "TARGET", description = "A missing or empty directory (or this snapshot's view already).")
    Path target;

    @Option(names = "--parallel", paramLabel = "N", description = "Files copied at once when staging (default: cache.parallel, 8).")
    Integer parallel;

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            Mounts.MountResult result = cache.mount(DatasetRef.parse(ref), target, parallel == null ? 0 : parallel, true);
            out().printf("mounted %s (%s) at %s: %s files, %s, read-only (%s into the cache)%s%n", ref, result.snapshotKey(), result.target(),
                    Formats.count(result.files()), Formats.bytes(result.bytes()), result.linkKind(),
                    result.stage().filesCopied() > 0 ? "; staged " + Formats.count(result.stage().filesCopied()) + " files first" : "");
        }
    }
}
