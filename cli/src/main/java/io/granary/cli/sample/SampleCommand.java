package io.granary.cli.sample;

import picocli.CommandLine.Command;

/** `granary sample ...`: template-plus-config sample pipelines. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Sample pipelines: pick a template, fill a short config, and run it as a DAG of nodes that skips",
            "what is unchanged. Outputs are versioned datasets with lineage to the run and every input snapshot."},
        subcommands = {PlanCommand.class, RunCommand.class, RunsCommand.class, ShowCommand.class, TemplateCommand.class, GcCommand.class})
public final class SampleCommand {}
