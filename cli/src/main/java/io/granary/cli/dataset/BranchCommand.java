package io.granary.cli.dataset;

import io.granary.cli.Subcommand;
import io.granary.dataset.DatasetName;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "branch", mixinStandardHelpOptions = true,
        description = "Start a branch at a snapshot (the current one by default); write to it as NS.NAME@BRANCH.")
public final class BranchCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "NS.NAME")
    String name;

    @Parameters(index = "1", paramLabel = "BRANCH")
    String branch;

    @Option(names = "--snapshot", paramLabel = "ID", description = "Start at this snapshot instead of the current one.")
    Long snapshot;

    @Override
    protected void run() {
        long id = context().datasets().branch(DatasetName.parse(name), branch,
                snapshot == null ? OptionalLong.empty() : OptionalLong.of(snapshot));
        out().println("branch " + branch + " of " + name + " starts at snapshot " + id
                + " (append with `granary dataset append " + name + "@" + branch + " FILE`)");
    }
}
