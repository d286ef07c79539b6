package io.granary.common;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writes a file so that readers see either nothing or the whole of it: the content goes to
 * {@code name.tmp-<uuid>} in the same directory, is fsynced, then renamed over the target.
 */
public final class AtomicFiles {

    /** Writes the content of a file through the stream it is given. */
    @FunctionalInterface
    public interface ContentWriter {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {}

    public static Path temporarySibling(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp-" + UUID.randomUUID());
    }

    public static void write(Path target, ContentWriter content) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = temporarySibling(target.toAbsolutePath());
        try {
            try (OutputStream out = Files.newOutputStream(temporary, StandardOpenOption.CREATE_NEW)) {
                content.write(out);
            }
            commit(temporary, target);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Fsyncs a finished temporary file and renames it over the target atomically. */
    public static void commit(Path temporary, Path target) throws IOException {
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new GranaryException(
                    "cannot rename " + temporary + " to " + target + " atomically",
                    "keep the output on a local POSIX file system", e);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    private static void fsyncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // Some file systems refuse to open directories; the rename itself is still atomic.
        }
    }
}
