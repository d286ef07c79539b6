package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.NodeCache;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "evict", mixinStandardHelpOptions = true,
        description = "Drop a snapshot from the cache (its files that no pinned snapshot shares). A mounted snapshot is refused.")
public final class EvictCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "The dataset ref that was staged.")
    String ref;

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            NodeCache.EvictResult result = cache.evict(DatasetRef.parse(ref));
            out().printf("evicted %s: %s files, %s freed%s%n", result.snapshotKey(), Formats.count(result.entries()), Formats.bytes(result.bytes()),
                    result.kept() > 0 ? "; " + result.kept() + " files kept for pinned snapshots that share them" : "");
        }
    }
}
