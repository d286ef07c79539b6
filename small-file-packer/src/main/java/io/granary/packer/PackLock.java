package io.granary.packer;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An OS lock on an output directory, so that two packs never write into it at once. Released by the OS if the process dies. */
final class PackLock implements AutoCloseable {

    private static final String FILE_NAME = ".granary-pack.lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private PackLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    static PackLock acquire(Path out) throws IOException {
        Path file = out.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException heldByThisProcess) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new GranaryException(GranaryException.Kind.CONFLICT, "another `granary pack` is writing to " + out,
                    "wait for it to finish, or pack into another directory", null);
        }
        return new PackLock(file, channel, lock);
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
        lock.release();
        channel.close();
    }
}
