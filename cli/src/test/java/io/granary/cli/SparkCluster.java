package io.granary.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on loopback (one master, one worker with one core) run from
 * Spark's own jars only, laid out as a Spark distribution's SPARK_HOME: what an executor needs
 * beyond Spark must be shipped by the driver, as on any cluster. Stopped by {@link #close()}.
 */
final class SparkCluster implements AutoCloseable {

    private static final Path HOME = Path.of("target/spark-home").toAbsolutePath();

    final Path workDir;
    final int port;
    final int webPort;
    private final Process master;
    private final Process worker;

    private SparkCluster(Path workDir, int port, int webPort, Process master, Process worker) {
        this.workDir = workDir;
        this.port = port;
        this.webPort = webPort;
        this.master = master;
        this.worker = worker;
    }

    static SparkCluster start(Path dir) throws Exception {
        Path home = sparkHome();
        int port = freePort();
        int webPort = freePort();
        Path workDir = Files.createDirectories(dir.resolve("worker"));
        Process master = launch(home, dir.resolve("master.log"), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(webPort));
        Process worker = launch(home, dir.resolve("worker.log"), "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1", "--cores", "1", "--memory", "2g", "--work-dir", workDir.toString(),
                "--webui-port", String.valueOf(freePort()), "spark://127.0.0.1:" + port);
        SparkCluster cluster = new SparkCluster(workDir, port, webPort, master, worker);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!cluster.status().contains("\"aliveworkers\" : 1")) {
            if (System.nanoTime() > deadline || !master.isAlive() || !worker.isAlive()) {
                cluster.close();
                throw new IllegalStateException("the Spark cluster did not come up: master log\n" + Files.readString(dir.resolve("master.log"))
                        + "\nworker log\n" + Files.readString(dir.resolve("worker.log")));
            }
            Thread.onSpinWait();
        }
        return cluster;
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + port;
    }

    /** The master's JSON status (workers, running and completed applications); empty while it does not answer. */
    String status() {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/json/"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The applications whose executors' logs show finished tasks: proof the work ran on the cluster, not in the driver. */
    List<String> applicationsThatRanTasks() throws IOException {
        List<String> apps = new ArrayList<>();
        try (Stream<Path> appDirs = Files.list(workDir)) {
            for (Path app : appDirs.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> logs = Files.walk(app)) {
                    boolean ran = logs.filter(f -> f.getFileName().toString().equals("stderr")).anyMatch(f -> {
                        try {
                            return Files.readString(f).contains("Finished task");
                        } catch (IOException e) {
                            return false;
                        }
                    });
                    if (ran) {
                        apps.add(app.getFileName().toString());
                    }
                }
            }
        }
        return apps;
    }

    @Override
    public void close() throws InterruptedException {
        worker.destroy();
        worker.waitFor(20, TimeUnit.SECONDS);
        worker.destroyForcibly();
        master.destroy();
        master.waitFor(20, TimeUnit.SECONDS);
        master.destroyForcibly();
    }

    private static Process launch(Path home, Path log, String mainClass, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        for (String flag : System.getProperty("granary.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.add("-cp");
        command.add(home.resolve("conf") + ":" + home.resolve("jars") + "/*");
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        return builder.start();
    }

    /**
     * SPARK_HOME with Spark's own jars (the closure of spark-sql, resolved by a parentless pom, so
     * that none of Granary's version pins reach it), made once under target/.
     */
    private static synchronized Path sparkHome() throws Exception {
        Path jars = HOME.resolve("jars");
        if (Files.isDirectory(jars)) {
            try (Stream<Path> present = Files.list(jars)) {
                if (present.findAny().isPresent()) {
                    return HOME;
                }
            }
        }
        Files.createDirectories(jars);
        Files.createDirectories(HOME.resolve("conf"));
        Path classpath = HOME.resolve("classpath.txt");
        Process maven = new ProcessBuilder("mvn", "-q", "-B", "-f", Path.of("src/test/spark-cluster/pom.xml").toAbsolutePath().toString(),
                "dependency:build-classpath", "-Dmdep.outputFile=" + classpath).redirectErrorStream(true)
                .redirectOutput(HOME.resolve("maven.log").toFile()).start();
        if (!maven.waitFor(10, TimeUnit.MINUTES) || maven.exitValue() != 0) {
            throw new IllegalStateException("resolving Spark's jars failed: " + Files.readString(HOME.resolve("maven.log")));
        }
        for (String jar : Files.readString(classpath).trim().split(":")) {
            Path source = Path.of(jar);
            Files.createSymbolicLink(jars.resolve(source.getFileName()), source);
        }
        Files.writeString(HOME.resolve("RELEASE"), "Spark 4.1.1 (Spark's own jars, for Granary's cluster tests)\n");
        Files.writeString(HOME.resolve("conf/log4j2.properties"), String.join("\n",
                "rootLogger.level = warn", "rootLogger.appenderRef.stderr.ref = console", "appender.console.type = Console",
                "appender.console.name = console", "appender.console.target = SYSTEM_ERR", "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n", "logger.executor.name = org.apache.spark.executor.Executor",
                "logger.executor.level = info", ""));
        return HOME;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
