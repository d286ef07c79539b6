package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cli.Subcommand;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "umount", mixinStandardHelpOptions = true,
        description = "Remove a view made by `granary mount` and unpin its snapshot (its files stay cached until evicted).")
public final class UmountCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "TARGET", description = "The directory given to `granary mount`.")
    Path target;

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            String snapshotKey = cache.umount(target);
            out().printf("unmounted %s (%s); its files stay cached%n", target.toAbsolutePath().normalize(), snapshotKey);
        }
    }
}
