package io.granary.cli.feature;

import picocli.CommandLine.Command;

/** `granary feature ...`: the feature registry, materialization and online lookups. */
@Command(
        name = "feature",
        mixinStandardHelpOptions = true,
        description = "Feature definitions (Feast's entities, feature views and services), materialization into the online store, lookups, and the check that serving agrees with training.",
        subcommands = {
            ApplyCommand.class,
            DiffCommand.class,
            ListCommand.class,
            ShowCommand.class,
            MaterializeCommand.class,
            MaterializeIncrementalCommand.class,
            GetCommand.class,
            HistoryCommand.class,
            VerifyOnlineCommand.class,
        })
public final class FeatureCommand {}
