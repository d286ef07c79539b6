package io.granary.cli.pack;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.common.AtomicFiles;
import io.granary.packer.Sample;
import io.granary.packer.ShardSet;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Fetch one sample by key through the index (one seek, one read) and write its files.")
public final class GetCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "A shard set directory (or the NS.NAME of its dataset).")
    String dir;

    @Parameters(index = "1", paramLabel = "KEY", description = "The sample key, e.g. spk1/utt7.")
    String key;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".", description = "Where to write the files, under their member names (default: the current directory).")
    Path target;

    @Override
    protected void run() throws Exception {
        long started = System.nanoTime();
        try (ShardSet set = ShardSetArgument.open(context(), dir)) {
            Sample sample = set.get(key);
            double millis = (System.nanoTime() - started) / 1e6;
            for (Sample.Member member : sample.members()) {
                Path file = target.resolve(Path.of(member.name()).getFileName().toString());
                AtomicFiles.write(file, stream -> stream.write(member.data()));
                out().printf("%s  %s bytes%n", file, Formats.count(member.data().length));
            }
            out().printf("sample %s: %d files, %s bytes (read and checked in %.1f ms, index load included)%n", sample.key(),
                    sample.members().size(), Formats.count(sample.bytes()), millis);
        }
    }
}
