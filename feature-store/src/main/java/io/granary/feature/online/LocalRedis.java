package io.granary.feature.online;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Redis servers started on loopback for `granary bench online` and the tests: one server, or a
 * Redis Cluster of several primaries. Debian's redis-server is installed when missing (as root,
 * with apt-get). Each server keeps its data in its own directory, so {@link #stop} then
 * {@link #restart} brings a node back with what it held. Never used for serving.
 */
public final class LocalRedis implements AutoCloseable {

    private static final long START_SECONDS = 20;

    private final Path dir;
    private final Optional<String> password;
    private final boolean cluster;
    private final List<Integer> ports = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    private LocalRedis(Path dir, Optional<String> password, boolean cluster) {
        this.dir = dir;
        this.password = password;
        this.cluster = cluster;
    }

    /** One server on a free loopback port, requiring {@code password} if given. */
    public static LocalRedis start(Path dir, Optional<String> password) {
        LocalRedis redis = new LocalRedis(dir, password, false);
        try {
            install();
            redis.ports.add(freePort());
            redis.processes.add(redis.launch(0));
            redis.awaitUp(0);
            return redis;
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    /** A Redis Cluster of {@code primaries} servers (no replicas), its slots spread evenly over them. */
    public static LocalRedis cluster(Path dir, int primaries) {
        LocalRedis redis = new LocalRedis(dir, Optional.empty(), true);
        try {
            install();
            for (int i = 0; i < primaries; i++) {
                redis.ports.add(freePort());
                redis.processes.add(redis.launch(i));
            }
            for (int i = 0; i < primaries; i++) {
                redis.awaitUp(i);
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            create.addAll(redis.nodes());
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            run(create, dir.resolve("cluster-create.log"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            for (int i = 0; i < primaries; i++) {
                while (!redis.clusterReady(i)) {
                    if (System.nanoTime() > deadline) {
                        throw new GranaryException("the Redis Cluster on " + redis.nodes() + " did not become ready",
                                "see " + dir.resolve("cluster-create.log") + " and the nodes' logs in " + dir);
                    }
                    pause();
                }
            }
            return redis;
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    public int port() {
        return ports.get(0);
    }

    public List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** The servers as host:port. */
    public List<String> nodes() {
        return ports.stream().map(p -> "127.0.0.1:" + p).toList();
    }

    /** The first server's URL, without the password. */
    public String url() {
        return "redis://127.0.0.1:" + port();
    }

    /** A plain connection to server {@code node}, authenticated. */
    public Jedis connect(int node) {
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder().connectionTimeoutMillis(2000).socketTimeoutMillis(5000);
        password.ifPresent(config::password);
        return new Jedis(new HostAndPort("127.0.0.1", ports.get(node)), config.build());
    }

    /** Stops server {@code node}, saving its data first, so that {@link #restart} brings it back as it was. */
    public void stop(int node) {
        try (Jedis jedis = connect(node)) {
            jedis.shutdown(redis.clients.jedis.params.ShutdownParams.shutdownParams().save());
        } catch (JedisException e) {
            // the connection closes as the server stops
        }
        Process process = processes.get(node);
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts a stopped server again on its port, with its data. */
    public void restart(int node) {
        processes.set(node, launch(node));
        awaitUp(node);
        if (cluster) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            while (!clusterReady(node) && System.nanoTime() < deadline) {
                pause();
            }
        }
    }

    /** Moves {@code slots} hash slots, with their keys, from Cluster node {@code from} to node {@code to} (as an operator's reshard does). */
    public void reshard(int from, int to, int slots) {
        String fromId;
        String toId;
        try (Jedis source = connect(from); Jedis target = connect(to)) {
            fromId = source.clusterMyId();
            toId = target.clusterMyId();
        }
        run(List.of("redis-cli", "--cluster", "reshard", nodes().get(from), "--cluster-from", fromId, "--cluster-to", toId,
                "--cluster-slots", String.valueOf(slots), "--cluster-yes"), dir.resolve("reshard.log"));
    }

    /** The version of the installed redis-server, e.g. 7.0.15. */
    public static String version() {
        try {
            Process version = new ProcessBuilder("redis-server", "--version").start();
            String text = new String(version.getInputStream().readAllBytes()).trim();
            version.waitFor();
            return text.replaceAll(".*v=([0-9.]+).*", "$1");
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private Process launch(int node) {
        Path nodeDir = dir.resolve("redis-" + node);
        List<String> command = new ArrayList<>(List.of("redis-server", "--port", String.valueOf(ports.get(node)), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", nodeDir.toString(), "--loglevel", "warning"));
        password.ifPresent(p -> command.addAll(List.of("--requirepass", p)));
        if (cluster) {
            command.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
        }
        try {
            Files.createDirectories(nodeDir);
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("redis.log").toFile())).start();
        } catch (IOException e) {
            throw new GranaryException("cannot start redis-server: " + e.getMessage(), "install it (apt-get install redis-server)", e);
        }
    }

    private void awaitUp(int node) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        while (true) {
            try (Jedis jedis = connect(node)) {
                jedis.ping();
                return;
            } catch (JedisException notYet) {
                if (System.nanoTime() > deadline || !processes.get(node).isAlive()) {
                    throw new GranaryException("redis-server did not start on port " + ports.get(node),
                            "see " + dir.resolve("redis-" + node).resolve("redis.log"));
                }
                pause();
            }
        }
    }

    private boolean clusterReady(int node) {
        try (Jedis jedis = connect(node)) {
            return jedis.clusterInfo().contains("cluster_state:ok");
        } catch (JedisException e) {
            return false;
        }
    }

    /** Installs Debian's redis-server when it is not on the PATH. */
    public static synchronized void install() {
        if (onPath("redis-server") && onPath("redis-cli")) {
            return;
        }
        int code = shell("(apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)) > /dev/null 2>&1");
        if (code != 0 || !onPath("redis-server")) {
            throw new GranaryException("redis-server is missing and could not be installed (apt-get exited " + code + ")",
                    "install it yourself: apt-get install redis-server");
        }
    }

    private static boolean onPath(String command) {
        return shell("command -v " + command + " > /dev/null") == 0;
    }

    private static int shell(String command) {
        try {
            return new ProcessBuilder("bash", "-c", command).inheritIO().start().waitFor();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void run(List<String> command, Path log) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new GranaryException(String.join(" ", command) + " failed", "see " + log);
            }
        } catch (IOException e) {
            throw new GranaryException("cannot run " + command.get(0) + ": " + e.getMessage(), "install redis-tools", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while creating the Redis Cluster", "run again");
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new GranaryException("no free loopback port: " + e.getMessage(), "check the machine's network settings", e);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while waiting for redis-server", "run again");
        }
    }

    @Override
    public void close() {
        for (Process process : processes) {
            process.destroy();
        }
        for (Process process : processes) {
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
