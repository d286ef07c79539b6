package io.granary.cli.pack;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.Progress;
import io.granary.packer.ShardSet;
import io.granary.packer.Unpacker;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "unpack", mixinStandardHelpOptions = true,
        description = "Extract every shard of a shard set into a directory (member names that would escape it are refused).")
public final class UnpackCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "A shard set directory (or the NS.NAME of its dataset).")
    String dir;

    @Option(names = "--to", paramLabel = "DIR", required = true, description = "Where the files go, under their member names.")
    Path target;

    @Override
    protected void run() throws Exception {
        long started = System.nanoTime();
        try (ShardSet set = ShardSetArgument.open(context(), dir);
             Progress progress = Progress.start("unpacking", "files", set.manifest().members())) {
            Unpacker.Result result = Unpacker.unpack(set.shardFiles(), target, progress);
            progress.close();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            out().printf("unpacked %s files (%s) into %s in %s%n", Formats.count(result.files()), Formats.bytes(result.bytes()),
                    target, Formats.seconds(took));
        }
    }
}
