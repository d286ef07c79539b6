package io.granary.bench;

import io.granary.common.GranaryException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A feature server in a process of its own, started the way users start it (`granary serve
 * features` through the launcher, with its JVM flags), so a benchmark measures what runs in
 * production.
 */
final class ServerProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("serving features: gRPC [^:]+:(\\d+).*started in (\\d+) ms");

    private final Process process;
    private final int port;

    private ServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    int port() {
        return port;
    }

    static ServerProcess start(Path work, Path registry, Path online, PrintWriter out) throws Exception {
        String home = System.getenv("GRANARY_HOME");
        if (home == null) {
            throw new GranaryException("GRANARY_HOME is not set", "run benchmarks through ./granary bench, which sets it");
        }
        Path config = work.resolve("serve.yaml");
        Files.writeString(config, "registry: {path: " + registry.toAbsolutePath() + "}\nonline_store: {path: " + online.toAbsolutePath() + "}\n");
        Process process = new ProcessBuilder(List.of(Path.of(home, "granary").toString(), "serve", "features", "--config", config.toString(),
                "--port", "0", "--http-port", "0")).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            Matcher ready = READY.matcher(line);
            if (ready.find()) {
                out.println("feature server process started in " + ready.group(2) + " ms (granary serve features, port " + ready.group(1) + ")");
                out.flush();
                Thread drain = new Thread(() -> lines.lines().forEach(l -> { }), "granary-bench-server-output");
                drain.setDaemon(true);
                drain.start();
                return new ServerProcess(process, Integer.parseInt(ready.group(1)));
            }
        }
        throw new GranaryException("the feature server process exited before serving (exit " + process.waitFor() + ")", "run granary serve features yourself to see why");
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
