package io.granary.cli.dataset;

import picocli.CommandLine.Command;

/** `granary dataset ...`: versioned datasets in the Iceberg catalog. */
@Command(
        name = "dataset",
        mixinStandardHelpOptions = true,
        description = {
            "Versioned datasets: Iceberg tables in the Granary catalog.",
            "A REF is NS.NAME, NS.NAME@SNAPSHOT_ID, NS.NAME@TAG, NS.NAME@BRANCH or NS.NAME@ts=2026-11-28T10:00:00Z."
        },
        subcommands = {
            CreateCommand.class,
            AppendCommand.class,
            OverwriteCommand.class,
            ListCommand.class,
            ShowCommand.class,
            LogCommand.class,
            HeadCommand.class,
            ExportCommand.class,
            TagCommand.class,
            BranchCommand.class,
            ExpireCommand.class,
            LineageCommand.class,
            DropCommand.class,
        })
public final class DatasetCommand {}
