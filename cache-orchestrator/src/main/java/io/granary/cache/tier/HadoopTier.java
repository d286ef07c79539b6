package io.granary.cache.tier;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Any file system Hadoop reads: hdfs://, s3a:// (with hadoop-aws on the class path), and the
 * local disk, which is read with plain NIO (Hadoop's local file system adds checksum files and
 * a copy per read for nothing here).
 */
public final class HadoopTier implements RemoteTier {

    private final Configuration conf;

    public HadoopTier(Configuration conf) {
        this.conf = new Configuration(conf);
    }

    @Override
    public InputStream open(URI file) throws IOException {
        if ("file".equals(file.getScheme())) {
            return Files.newInputStream(Path.of(file));
        }
        return fileSystem(file).open(new org.apache.hadoop.fs.Path(file));
    }

    private FileSystem fileSystem(URI file) throws IOException {
        // FileSystem.get caches one instance per scheme, authority and user; closing it is Hadoop's shutdown hook's job
        return FileSystem.get(file, conf);
    }

    @Override
    public void close() {
        // the cached Hadoop file systems are shared with the catalog; nothing of our own to close
    }
}
