package io.granary.cache.tier;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.ServerSocket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Alluxio cluster (one master, one worker) in this JVM, its root mounted on a local
 * directory (the "under file system", as a warehouse would be). Its jars (alluxio-minicluster
 * 2.9.6, with their own gRPC, protobuf and Netty) are resolved by the parentless pom in
 * src/test/alluxio-cluster and loaded in a class loader of their own, away from Granary's.
 */
final class AlluxioCluster implements AutoCloseable {

    private static final Path JARS = Path.of("target/alluxio-cluster");

    private final URLClassLoader loader;
    private final Object cluster;
    private final int port;
    private final Set<Path> tempBefore;

    private AlluxioCluster(URLClassLoader loader, Object cluster, int port, Set<Path> tempBefore) {
        this.loader = loader;
        this.cluster = cluster;
        this.port = port;
        this.tempBefore = tempBefore;
    }

    /**
     * Starts a cluster and mounts {@code lake} at /lake in it (the cluster's own root is a scratch
     * directory: Alluxio's test cluster wipes its root under file system when it starts).
     */
    static AlluxioCluster start(Path lake) throws Exception {
        URLClassLoader loader = new URLClassLoader(classpath(), ClassLoader.getPlatformClassLoader());
        Set<Path> tempBefore = tempFolders();
        int rpc = freePort();
        int web = freePort();
        Object cluster = inLoader(loader, () -> {
            Class<?> type = loader.loadClass("alluxio.master.LocalAlluxioCluster");
            Object created = type.getConstructor(int.class, boolean.class).newInstance(1, false);
            type.getMethod("initConfiguration", String.class).invoke(created, "granary-alluxio-tier-test");
            Map<String, Object> settings = new java.util.LinkedHashMap<>();
            for (String key : List.of("alluxio.master.hostname", "alluxio.master.bind.host", "alluxio.worker.hostname", "alluxio.worker.bind.host",
                    "alluxio.job.master.hostname", "alluxio.job.master.bind.host", "alluxio.job.worker.hostname", "alluxio.job.worker.bind.host",
                    "alluxio.proxy.web.hostname", "alluxio.proxy.web.bind.host", "alluxio.user.hostname")) {
                settings.put(key, "localhost");
            }
            settings.put("alluxio.master.rpc.port", rpc);
            settings.put("alluxio.master.web.port", web);
            // the unit-test defaults (1 KB blocks, 64-byte chunks) would turn each file into thousands of blocks
            settings.put("alluxio.user.block.size.bytes.default", "64MB");
            settings.put("alluxio.user.streaming.reader.chunk.size.bytes", "1MB");
            settings.put("alluxio.user.block.remote.read.buffer.size.bytes", "8MB");
            settings.put("alluxio.worker.ramdisk.size", "128MB");
            Class<?> keys = loader.loadClass("alluxio.conf.PropertyKey");
            Method fromString = keys.getMethod("fromString", String.class);
            Method set = loader.loadClass("alluxio.conf.Configuration").getMethod("set", keys, Object.class);
            for (Map.Entry<String, Object> setting : settings.entrySet()) {
                set.invoke(null, fromString.invoke(null, setting.getKey()), setting.getValue());
            }
            type.getMethod("start").invoke(created);
            Object client = type.getMethod("getClient").invoke(created);
            Class<?> uri = loader.loadClass("alluxio.AlluxioURI");
            client.getClass().getMethod("mount", uri, uri).invoke(client, uri.getConstructor(String.class).newInstance("/lake"),
                    uri.getConstructor(String.class).newInstance(lake.toAbsolutePath().toString()));
            return created;
        });
        return new AlluxioCluster(loader, cluster, rpc, tempBefore);
    }

    /** The cluster's root, alluxio://localhost:PORT. */
    String uri() {
        return "alluxio://localhost:" + port;
    }

    /** Where the lake shows in the cluster. */
    String lake() {
        return uri() + "/lake";
    }

    @Override
    public void close() throws IOException {
        try {
            inLoader(loader, () -> cluster.getClass().getMethod("stop").invoke(cluster));
        } catch (Exception e) {
            throw new IOException("stopping the Alluxio cluster failed", e);
        } finally {
            loader.close();
            for (Path left : tempFolders()) {
                if (!tempBefore.contains(left)) {
                    io.granary.common.FileTrees.delete(left);
                }
            }
        }
    }

    private static <T> T inLoader(ClassLoader loader, Callable<T> work) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return work.call();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static Set<Path> tempFolders() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return entries.filter(p -> p.getFileName().toString().startsWith("alluxio-tests")).collect(Collectors.toSet());
        }
    }

    /** The cluster's jars, resolved once into target/ (the first time downloads them from Maven Central). */
    private static synchronized URL[] classpath() throws Exception {
        Path list = JARS.resolve("classpath.txt");
        if (!Files.isRegularFile(list)) {
            Files.createDirectories(JARS);
            Path log = JARS.resolve("maven.log");
            Process maven = new ProcessBuilder("mvn", "-q", "-B", "-f", Path.of("src/test/alluxio-cluster/pom.xml").toAbsolutePath().toString(),
                    "dependency:build-classpath", "-Dmdep.outputFile=" + list.toAbsolutePath()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!maven.waitFor(10, TimeUnit.MINUTES) || maven.exitValue() != 0) {
                Files.deleteIfExists(list);
                throw new IllegalStateException("resolving Alluxio's jars failed: " + Files.readString(log));
            }
        }
        List<URL> urls = new ArrayList<>();
        for (String jar : Files.readString(list).trim().split(":")) {
            urls.add(Path.of(jar).toUri().toURL());
        }
        return urls.toArray(URL[]::new);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
