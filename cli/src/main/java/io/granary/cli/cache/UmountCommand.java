package io.granary.cli.cache;

import io.granary.cache.NodeCache;
import io.granary.cache.mount.Mounts;
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
        try (NodeCache cache = context().cache()) {
            Mounts.Marker marker = new Mounts(cache).umount(target);
            out().printf("unmounted %s (%s); its files stay cached%n", target.toAbsolutePath().normalize(), marker.snapshotKey());
        }
    }
}
