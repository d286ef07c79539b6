package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.dataset.DatasetName;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tag", mixinStandardHelpOptions = true,
        description = "Name a snapshot (the current one by default). Tagged snapshots are never expired.")
public final class TagCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME")
    String name;

    @Parameters(index = "1", paramLabel = "TAG")
    String tag;

    @Option(names = "--snapshot", paramLabel = "ID", description = "Tag this snapshot instead of the current one.")
    Long snapshot;

    @Option(names = "--force", description = "Move the tag if it exists.")
    boolean force;

    @Override
    protected void run() {
        long id = context().datasets().tag(DatasetName.parse(name), tag,
                snapshot == null ? OptionalLong.empty() : OptionalLong.of(snapshot), force);
        out().println("tagged " + name + "@" + id + " as " + tag + " (read it as " + name + "@" + tag + ")");
    }
}
