package io.granary.cli.sample;

import io.granary.cli.Subcommand;
import io.granary.cli.output.TextTable;
import io.granary.sample.SamplePipelines;
import io.granary.sample.component.Component;
import io.granary.sample.template.NodeSpec;
import io.granary.sample.template.Param;
import io.granary.sample.template.Template;
import io.granary.sample.template.TemplateStore;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** `granary sample template list|show|add`: the built-in templates and a team's own (the template directory). */
@Command(name = "template", mixinStandardHelpOptions = true, description = "Pipeline templates: the built-in ones and your team's own.",
        subcommands = {TemplateCommand.List.class, TemplateCommand.Show.class, TemplateCommand.Add.class})
public final class TemplateCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the templates and their latest versions.")
    static final class List extends Subcommand {
        @Mixin
        PluginDirs plugins;

        @Override
        protected void run() {
            TextTable table = new TextTable("template", "version", "versions", "from", "description").alignRight(1, 2);
            for (TemplateStore.Entry entry : context().samplePipelines(plugins.dirs).templates().list()) {
                table.add(entry.name(), entry.latest(), entry.versions(), entry.builtIn() ? "built in" : "template dir", entry.description());
            }
            table.print(out());
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a template: its parameters with help and defaults, and its nodes.")
    static final class Show extends Subcommand {
        @Parameters(paramLabel = "NAME", description = "NAME (the latest version) or NAME@VERSION.")
        String name;

        @Mixin
        PluginDirs plugins;

        @Override
        protected void run() {
            SamplePipelines pipelines = context().samplePipelines(plugins.dirs);
            Template template = pipelines.templates().get(name);
            out().printf("template %s (%s)%n", template.id(), template.source());
            if (!template.description().isEmpty()) {
                out().println(template.description());
            }
            out().println();
            TextTable params = new TextTable("parameter", "type", "required", "default", "help");
            for (Param param : template.params()) {
                params.add(param.name(), param.type() + (param.allowed().isEmpty() ? "" : " " + param.allowed()), param.required() ? "yes" : "",
                        param.defaultValue().map(String::valueOf).orElse(""), param.help());
            }
            params.print(out());
            out().println();
            TextTable nodes = new TextTable("node", "component", "what it does");
            for (NodeSpec node : template.nodes()) {
                Component component = pipelines.components().find(node.component()).orElseThrow();
                nodes.add(node.id(), node.component() + " v" + component.version(), component.description());
            }
            nodes.print(out());
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Check a template file and add it to the template directory: a changed template becomes a new version.",
                "Pipelines name NAME (the latest version) or pin NAME@VERSION."})
    static final class Add extends Subcommand {
        @Parameters(paramLabel = "FILE", description = "The template file (YAML).")
        Path file;

        @Mixin
        PluginDirs plugins;

        @Override
        protected void run() {
            TemplateStore.Added added = context().samplePipelines(plugins.dirs).templates().add(file);
            Template template = added.template();
            if (added.changed()) {
                out().printf("added template %s version %d (%d parameters, %d nodes)%n", template.name(), template.version(),
                        template.params().size(), template.nodes().size());
            } else {
                out().printf("template %s is unchanged: version %d%n", template.name(), template.version());
            }
        }
    }
}
