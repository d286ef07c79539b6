package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.NodeCache;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.GranaryException;
import picocli.CommandLine.Command;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Reread every cached file and check its size and checksum. A damaged one is dropped and fetched again",
            "the next time a snapshot that lists it is staged or mounted. Exit 1 if any was damaged."})
public final class VerifyCommand extends Subcommand {

    @Override
    protected void run() {
        long started = System.nanoTime();
        try (CacheAccess cache = context().cacheAccess()) {
            NodeCache.VerifyResult result = cache.verify(0);
            result.damaged().forEach(id -> out().println("DAMAGED " + id + " (dropped)"));
            String summary = Formats.count(result.checked()) + " files, " + Formats.bytes(result.bytes()) + " checked in "
                    + Formats.seconds(java.time.Duration.ofNanos(System.nanoTime() - started));
            if (!result.damaged().isEmpty()) {
                throw new GranaryException(result.damaged().size() + " damaged files dropped from the cache (" + summary + ")",
                        "stage or mount the snapshots again to fetch them (`granary cache status` shows which are no longer 100% cached)");
            }
            out().println("ok: " + summary);
        }
    }
}
