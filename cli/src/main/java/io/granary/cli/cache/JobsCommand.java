package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.CacheStatus;
import io.granary.cache.stage.CacheJobs;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "Background stages (`cache stage REF --async`): state, how much of each snapshot is cached so far, and how each ended.")
public final class JobsCommand extends Subcommand {

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            var jobs = cache.jobs();
            if (jobs.isEmpty()) {
                out().println("no cache jobs: start one with `granary cache stage REF --async`");
                return;
            }
            Map<String, CacheStatus.SnapshotStatus> snapshots = cache.status().snapshots().stream()
                    .collect(Collectors.toMap(CacheStatus.SnapshotStatus::key, Function.identity()));
            TextTable table = new TextTable("job", "ref", "state", "cached", "started", "pid", "message").wholeLastColumn();
            for (CacheJobs.Job job : jobs) {
                CacheStatus.SnapshotStatus snapshot = snapshots.get(job.snapshotKey());
                String cached = snapshot == null ? "0%" : String.format(Locale.ROOT, "%.0f%% (%s of %s files)", Math.floor(snapshot.cachedPercent()),
                        Formats.count(snapshot.cachedFiles()), Formats.count(snapshot.files()));
                table.add(job.id(), job.ref(), job.state(), cached, Formats.time(Instant.ofEpochMilli(job.startedMillis())),
                        job.pid(), job.message().isEmpty() ? "-" : job.message());
            }
            table.print(out());
        }
    }
}
