package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.NodeCache;
import io.granary.cli.Subcommand;
import picocli.CommandLine.Command;

@Command(name = "gc", mixinStandardHelpOptions = true,
        description = "Remove what nothing accounts for: files of stages that were killed, holds of dead processes, records of snapshots with nothing cached.")
public final class GcCommand extends Subcommand {

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            NodeCache.GcResult result = cache.gc();
            out().printf("gc: %d unrecorded files, %d partial copies, %d holds of dead processes, %d empty snapshot records removed%n",
                    result.orphanFiles(), result.temporaries(), result.deadHolds(), result.staleSnapshots());
        }
    }
}
