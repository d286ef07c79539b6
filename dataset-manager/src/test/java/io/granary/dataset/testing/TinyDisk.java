package io.granary.dataset.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real disk that fills up: a tmpfs of a few MiB mounted at a test's directory. Mounting needs
 * root (as on the CI machine); elsewhere the test is skipped and says why.
 */
public final class TinyDisk implements AutoCloseable {

    private final Path path;

    private TinyDisk(Path path) {
        this.path = path;
    }

    /** Mounts a tmpfs of {@code size} (mount's notation: 2m, 64m) at {@code dir}, or skips the test. */
    public static TinyDisk mount(Path dir, String size) throws Exception {
        Files.createDirectories(dir);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()).redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + new String(mount.getInputStream().readAllBytes()));
        return new TinyDisk(dir);
    }

    public Path path() {
        return path;
    }

    /** Makes room: the same disk, now of {@code size}, with everything on it kept. */
    public void grow(String size) throws Exception {
        new ProcessBuilder("mount", "-o", "remount,size=" + size, path.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        new ProcessBuilder("umount", "--lazy", path.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }
}
