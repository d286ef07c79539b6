package io.granary.cli;

import io.granary.common.GranaryException;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** Entry point of the `granary` command. Exit codes: 0 ok, 1 user error, 2 usage, 3 internal. */
public final class Main {

    public static final int OK = 0;
    public static final int USER_ERROR = 1;
    public static final int USAGE = 2;
    public static final int INTERNAL = 3;

    private Main() {}

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line; returns its exit code. Used by main and by tests, in-process. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        GranaryCommand root = new GranaryCommand();
        root.streams(out, err);
        try {
            return commandLine(root, out, err).execute(args);
        } finally {
            root.close();
        }
    }

    /** Runs one more command line with an existing context, which stays open. */
    public static int runWith(Context context, String... args) {
        return commandLine(GranaryCommand.sharing(context), context.out(), context.err()).execute(args);
    }

    private static CommandLine commandLine(GranaryCommand root, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(root);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(new ErrorHandler(root));
        return commandLine;
    }

    /** Prints what went wrong and the hint, never a bare stack trace unless --debug. */
    private record ErrorHandler(GranaryCommand root) implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine commandLine, ParseResult parseResult) {
            PrintWriter err = commandLine.getErr();
            GranaryException granary = findGranaryException(e);
            if (granary != null) {
                err.println("error: " + granary.getMessage());
                if (!granary.hint().isEmpty()) {
                    err.println("hint:  " + granary.hint());
                }
                if (root.debug()) {
                    err.println(stackTrace(e));
                }
                err.flush();
                return USER_ERROR;
            }
            err.println("internal error: " + e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            err.println(root.debug() ? stackTrace(e) : "hint:  rerun with --debug for the stack trace, and report it");
            err.flush();
            return INTERNAL;
        }

        private static GranaryException findGranaryException(Throwable e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
                if (cause instanceof GranaryException granary) {
                    return granary;
                }
            }
            return null;
        }

        private static String stackTrace(Throwable e) {
            StringWriter text = new StringWriter();
            e.printStackTrace(new PrintWriter(text));
            return text.toString();
        }
    }
}
