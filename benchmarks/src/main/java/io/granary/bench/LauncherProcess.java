package io.granary.bench;

import io.granary.common.GranaryException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A `granary` command in a process of its own, started through the launcher (its JVM flags), ready when a line matches. */
final class LauncherProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final String readyLine;

    private LauncherProcess(Process process, int port, String readyLine) {
        this.process = process;
        this.port = port;
        this.readyLine = readyLine;
    }

    /** Starts `granary ARGS`; {@code ready}'s group 1 is the port it listens on, group 2 its start time in ms. */
    static LauncherProcess start(List<String> args, Pattern ready, PrintWriter out) throws Exception {
        String home = System.getenv("GRANARY_HOME");
        if (home == null) {
            throw new GranaryException("GRANARY_HOME is not set", "run benchmarks through ./granary bench, which sets it");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(home, "granary").toString()));
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = lines.readLine()) != null) {
            Matcher matcher = ready.matcher(line);
            if (matcher.find()) {
                out.println("`granary " + args.get(0) + " " + args.get(1) + "` started in " + matcher.group(2) + " ms (port " + matcher.group(1) + ")");
                out.flush();
                Thread drain = new Thread(() -> lines.lines().forEach(l -> { }), "granary-bench-process-output");
                drain.setDaemon(true);
                drain.start();
                return new LauncherProcess(process, Integer.parseInt(matcher.group(1)), line);
            }
            seen.append(line).append('\n');
        }
        throw new GranaryException("`granary " + String.join(" ", args) + "` exited before it was ready (exit " + process.waitFor() + "):\n" + seen,
                "run it yourself to see why");
    }

    int port() {
        return port;
    }

    /** The line that told it was ready (servers name their other ports there). */
    String readyLine() {
        return readyLine;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
