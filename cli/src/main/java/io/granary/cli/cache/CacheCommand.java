package io.granary.cli.cache;

import picocli.CommandLine.Command;

/** `granary cache ...`: the node-local cache of dataset snapshots. */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = {"The node-local cache: stage dataset snapshots (tables and packed sets) onto local disk under a quota,",
            "see what it holds, evict, verify and clean it. Every process on a node shares one cache root and one quota."},
        subcommands = {StageCommand.class, JobsCommand.class, StatusCommand.class, EvictCommand.class, VerifyCommand.class, GcCommand.class,
            NodeLabelsCommand.class})
public final class CacheCommand {
}
