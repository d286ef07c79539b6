package io.granary.cli.pack;

import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.packer.IndexRow;
import io.granary.packer.Manifest;
import io.granary.packer.PackIndex;
import io.granary.packer.ShardSet;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ls", mixinStandardHelpOptions = true, description = "List the samples of a shard set: key, shard, members, bytes.")
public final class LsCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "A shard set directory (or the NS.NAME of its dataset).")
    String dir;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "Samples to list (default: ${DEFAULT-VALUE}; 0 for all).")
    int limit;

    @Override
    protected void run() throws Exception {
        try (ShardSet set = ShardSetArgument.open(context(), dir)) {
            Manifest manifest = set.manifest();
            out().printf("%s: %s samples, %s files, %d shards, %s%s%n", set.dir(), Formats.count(manifest.samples()),
                    Formats.count(manifest.members()), manifest.shards().size(), Formats.bytes(manifest.bytes()),
                    manifest.dataset() == null ? "" : " (dataset " + manifest.dataset() + ")");
            PackIndex index = set.index();
            List<String> keys = index.keys();
            TextTable table = new TextTable("KEY", "SHARD", "MEMBERS", "BYTES").alignRight(3);
            int shown = limit <= 0 ? keys.size() : Math.min(limit, keys.size());
            for (String key : keys.subList(0, shown)) {
                List<IndexRow> rows = index.sample(key);
                table.add(key, rows.get(0).shard(), rows.stream().map(IndexRow::extension).collect(Collectors.joining(",")),
                        Formats.count(rows.stream().mapToLong(IndexRow::size).sum()));
            }
            table.print(out());
            if (shown < keys.size()) {
                out().printf("... %s more (--limit 0 lists all)%n", Formats.count(keys.size() - shown));
            }
        }
    }
}
