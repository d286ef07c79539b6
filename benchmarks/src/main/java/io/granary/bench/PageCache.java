package io.granary.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Evicts files from the OS page cache with posix_fadvise(POSIX_FADV_DONTNEED), which needs no
 * root, so a benchmark can read them cold. Dirty pages are not dropped: call {@link #sync} first.
 */
final class PageCache {

    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;

    /** The libc calls used, bound by JNA. */
    public interface LibC extends Library {
        int open(String path, int flags);

        int posix_fadvise(int fd, long offset, long length, int advice);

        int close(int fd);
    }

    private static final LibC LIBC = Native.load("c", LibC.class);

    private PageCache() {}

    /** Writes every dirty page to disk (so that the eviction that follows can drop them). */
    static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").inheritIO().start().waitFor();
    }

    static void evict(Path file) {
        int fd = LIBC.open(file.toString(), O_RDONLY);
        if (fd < 0) {
            throw new IllegalStateException("cannot open " + file + " to evict it from the page cache");
        }
        try {
            LIBC.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        } finally {
            LIBC.close(fd);
        }
    }

    /** Evicts every regular file under {@code root} (or {@code root} itself if it is a file). */
    static long evictTree(Path root) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        files.forEach(PageCache::evict);
        return files.size();
    }
}
