package io.granary.cli.cache;

import io.granary.cache.CacheStatus;
import io.granary.cache.CacheAccess;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import java.time.Instant;
import java.util.Locale;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "What the cache holds: use against the quota and watermarks, and per snapshot how much is cached, who pins it and when it was last used.")
public final class StatusCommand extends Subcommand {

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            CacheStatus status = cache.status();
            out().printf("cache %s: %s used of %s quota (%.1f%%), %s entries; evicts above %.0f%% down to %.0f%%, %s first%s%n",
                    status.root(), Formats.bytes(status.usedBytes()), Formats.bytes(status.quota()),
                    100.0 * status.usedBytes() / status.quota(), Formats.count(status.entries()),
                    100 * status.highWatermark(), 100 * status.lowWatermark(),
                    status.policy() == io.granary.cache.store.EvictionPolicy.LRU ? "least recently used" : "least frequently used",
                    status.reservedBytes() > 0 ? "; " + Formats.bytes(status.reservedBytes()) + " being staged" : "");
            if (cache instanceof io.granary.cache.daemon.DaemonClient) {
                out().println("(through the cache daemon at " + cache.where().substring("daemon at ".length()) + ")");
            }
            if (status.snapshots().isEmpty()) {
                out().println("no snapshots staged yet: `granary cache stage NS.NAME`");
                return;
            }
            TextTable table = new TextTable("snapshot", "kind", "files", "bytes", "cached", "last used", "pinned by").wholeLastColumn();
            for (CacheStatus.SnapshotStatus snapshot : status.snapshots()) {
                table.add(snapshot.key(), snapshot.kind(), Formats.count(snapshot.files()), Formats.bytes(snapshot.bytes()),
                        String.format(Locale.ROOT, "%.0f%%", Math.floor(snapshot.cachedPercent())),
                        Formats.time(Instant.ofEpochMilli(snapshot.lastUsedMillis())),
                        snapshot.pinnedBy().isEmpty() ? "-" : String.join(", ", snapshot.pinnedBy()));
            }
            table.print(out());
        }
    }
}
