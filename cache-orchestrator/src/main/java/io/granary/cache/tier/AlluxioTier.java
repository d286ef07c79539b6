package io.granary.cache.tier;

import alluxio.AlluxioURI;
import alluxio.client.file.FileSystem;
import alluxio.conf.InstancedConfiguration;
import alluxio.conf.PropertyKey;
import alluxio.exception.AlluxioException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * alluxio://MASTER:PORT/path through Alluxio's own file system client (not its Hadoop adapter):
 * one client per master, reads cached in Alluxio's workers as they pass (Alluxio's default read
 * type), so a second node staging the same snapshot reads it from Alluxio's memory tier.
 * Other client settings come from Alluxio's own alluxio-site.properties, as for any Alluxio client.
 */
public final class AlluxioTier implements RemoteTier {

    private static final int DEFAULT_MASTER_PORT = 19998;

    private final Map<String, FileSystem> clients = new ConcurrentHashMap<>();

    @Override
    public InputStream open(URI file) throws IOException {
        try {
            return client(file).openFile(new AlluxioURI(file.getPath()));
        } catch (AlluxioException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private FileSystem client(URI file) {
        String host = file.getHost() == null ? "localhost" : file.getHost();
        int port = file.getPort() < 0 ? DEFAULT_MASTER_PORT : file.getPort();
        return clients.computeIfAbsent(host + ":" + port, master -> {
            InstancedConfiguration conf = alluxio.conf.Configuration.copyGlobal();
            conf.set(PropertyKey.MASTER_HOSTNAME, host);
            conf.set(PropertyKey.MASTER_RPC_PORT, port);
            if (!conf.isSetByUser(PropertyKey.USER_RPC_RETRY_MAX_DURATION)) {
                // Alluxio retries an unreachable master for two minutes, and a stage retries each file: fail sooner
                conf.set(PropertyKey.USER_RPC_RETRY_MAX_DURATION, "20s");
            }
            return FileSystem.Factory.create(conf);
        });
    }

    @Override
    public void close() throws IOException {
        IOException failed = null;
        for (FileSystem client : clients.values()) {
            try {
                client.close();
            } catch (IOException e) {
                failed = e;
            }
        }
        clients.clear();
        if (failed != null) {
            throw failed;
        }
    }
}
