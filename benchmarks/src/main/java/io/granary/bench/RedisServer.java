package io.granary.bench;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A Redis server for a benchmark: installed from Debian's packages if missing, on a free loopback port, stopped after. */
final class RedisServer implements AutoCloseable {

    private final Process process;
    final int port;

    private RedisServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static RedisServer start(Path dir, java.io.PrintWriter log) throws Exception {
        if (!onPath("redis-server")) {
            log.println("redis-server is missing: installing Debian's redis-server (apt-get install -y redis-server)");
            log.flush();
            int code = new ProcessBuilder("bash", "-c", "(apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)) > /dev/null 2>&1")
                    .inheritIO().start().waitFor();
            if (code != 0 || !onPath("redis-server")) {
                throw new GranaryException("could not install redis-server (apt-get exited " + code + ")",
                        "install it yourself (apt-get install redis-server), or run with --skip-redis");
            }
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Process process = new ProcessBuilder(List.of("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString(), "--loglevel", "warning"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        RedisServer server = new RedisServer(process, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try (Resp resp = new Resp(port)) {
                resp.send(List.of("PING".getBytes()));
                resp.flush();
                resp.readReply();
                return server;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    server.close();
                    throw new GranaryException("redis-server did not start on port " + port, "see " + dir.resolve("redis.log"));
                }
                Thread.onSpinWait();
            }
        }
    }

    String version() throws Exception {
        Process version = new ProcessBuilder("redis-server", "--version").start();
        String text = new String(version.getInputStream().readAllBytes()).trim();
        version.waitFor();
        return text.replaceAll(".*v=([0-9.]+).*", "$1");
    }

    private static boolean onPath(String command) throws Exception {
        return new ProcessBuilder("bash", "-c", "command -v " + command + " > /dev/null").start().waitFor() == 0;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
