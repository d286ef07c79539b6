package io.granary.cli.sample;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** `--plugins DIR`: directories of jars with a team's own components, beside those of the config's samples.plugins. */
final class PluginDirs {

    @Option(names = "--plugins", split = ",", paramLabel = "DIR", description = "Directories of component jars (added to samples.plugins).")
    List<Path> dirs = new ArrayList<>();
}
