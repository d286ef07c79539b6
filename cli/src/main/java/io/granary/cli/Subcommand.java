package io.granary.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command: reaches the run's {@link Context} through the root command. */
public abstract class Subcommand implements Callable<Integer> {

    @Spec
    protected CommandSpec spec;

    protected Context context() {
        return ((GranaryCommand) spec.root().userObject()).context();
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    @Override
    public final Integer call() throws Exception {
        ((GranaryCommand) spec.root().userObject()).applyLogLevel();
        run();
        out().flush();
        return 0;
    }

    protected abstract void run() throws Exception;
}
