package io.granary.cache.tier;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;

/** Where a dataset's files are copied from: a Hadoop file system (file://, hdfs://, s3a://) or Alluxio. */
public interface RemoteTier extends Closeable {

    /** Opens a file for one sequential read. */
    InputStream open(URI file) throws IOException;
}
