package io.granary.cli.pack;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.packer.ShardSet;
import io.granary.packer.Verifier;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check every shard's SHA-256 and every member's CRC32C, size and position against the manifest and index.")
public final class VerifyCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "A shard set directory (or the NS.NAME of its dataset).")
    String dir;

    @Override
    protected void run() throws Exception {
        long started = System.nanoTime();
        try (ShardSet set = ShardSetArgument.open(context(), dir);
             Progress progress = Progress.start("verifying", "files", set.manifest().members())) {
            Verifier.Report report = Verifier.verify(set, progress);
            progress.close();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            if (!report.ok()) {
                report.problems().forEach(problem -> out().println("BAD " + problem));
                throw new GranaryException(report.problems().size() + " of " + report.shards() + " shards in " + set.dir() + " are damaged",
                        "repack from the source (pack into a new directory), or restore the damaged shards from a copy");
            }
            out().printf("ok: %d shards, %s members, %s verified in %s%n", report.shards(), Formats.count(report.members()),
                    Formats.bytes(report.bytes()), Formats.seconds(took));
        }
    }
}
