package io.granary.cli;

import io.granary.cli.config.GranaryConfig;
import io.granary.cli.dataset.DatasetCommand;
import io.granary.cli.feature.FeatureCommand;
import io.granary.cli.pack.PackCommand;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The `granary` command: global options, and the verbs as subcommands. */
@Command(
        name = "granary",
        mixinStandardHelpOptions = true,
        versionProvider = Versions.class,
        description = "Versioned datasets, features and training data for ML teams.",
        subcommands = {
            DatasetCommand.class,
            FeatureCommand.class,
            io.granary.cli.sample.SampleCommand.class,
            PackCommand.class,
            io.granary.cli.cache.CacheCommand.class,
            io.granary.cli.cache.MountCommand.class,
            io.granary.cli.cache.UmountCommand.class,
            io.granary.cli.cache.K8sCommand.class,
            StreamCommand.class,
            ServeCommand.class,
            SqlCommand.class,
            DoctorCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            ConfigCommand.class,
        },
        footerHeading = "%nExit codes:%n",
        footer = {
            "  0  success",
            "  1  user error: bad input, unknown name, conflict (the message says what and how to fix it)",
            "  2  usage error: unknown command or option, missing argument",
            "  3  internal error (rerun with --debug and report it)",
        })
public final class GranaryCommand {

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Config file (default: ./granary.yaml if present, else built-in defaults).")
    Path configFile;

    @Option(names = "--data-dir", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Where Granary keeps its data (default: ./granary-data, or data_dir in the config).")
    Path dataDir;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces and debug logs.")
    boolean debug;

    private Context context;
    private PrintWriter out;
    private PrintWriter err;

    /** A root that runs more command lines against an existing context (the demo's steps). */
    static GranaryCommand sharing(Context context) {
        GranaryCommand root = new GranaryCommand();
        root.context = context;
        root.out = context.out();
        root.err = context.err();
        return root;
    }

    void streams(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    boolean debug() {
        return debug;
    }

    /** The wiring for this run, built on first use (after the options are parsed). */
    /** --debug promises Granary's debug logs (phase timings and the like), not only stack traces. */
    void applyLogLevel() {
        if (debug) {
            org.apache.logging.log4j.core.config.Configurator.setLevel("io.granary", org.apache.logging.log4j.Level.DEBUG);
        }
    }

    public synchronized Context context() {
        if (context == null) {
            GranaryConfig config = GranaryConfig.load(Optional.ofNullable(configFile), Optional.ofNullable(dataDir),
                    Path.of("").toAbsolutePath());
            context = new Context(config, out, err);
        }
        return context;
    }

    synchronized void close() {
        if (context != null) {
            context.close();
        }
    }
}
