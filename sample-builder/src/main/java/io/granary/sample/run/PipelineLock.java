package io.granary.sample.run;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * One run of a pipeline at a time, across processes: an OS lock on {@code DIR/PIPELINE.lock},
 * released when the run ends or its process dies. The file names the holder's run id and pid.
 */
final class PipelineLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private PipelineLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock; refuses at once, or waits up to {@code wait} for the other run to end. */
    static PipelineLock acquire(Path dir, String pipeline, String runId, Duration wait) {
        Path file = dir.resolve(pipeline + ".lock");
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            while (true) {
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (java.nio.channels.OverlappingFileLockException heldHere) {
                    lock = null; // another run of this process holds it
                }
                if (lock != null) {
                    channel.truncate(0);
                    channel.write(java.nio.ByteBuffer.wrap(("run " + runId + ", pid " + ProcessHandle.current().pid() + "\n")
                            .getBytes(StandardCharsets.UTF_8)), 0);
                    return new PipelineLock(channel, lock);
                }
                if (System.nanoTime() >= deadline) {
                    String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
                    channel.close();
                    throw new GranaryException(GranaryException.Kind.CONFLICT, "pipeline " + pipeline + " is being run by another process ("
                            + holder + ")", "wait for it to finish, or pass --wait DURATION to wait for it", null);
                }
                Thread.sleep(200);
            }
        } catch (IOException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot lock " + file + ": " + e.getMessage(),
                    "check that the samples directory (samples.path) is writable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while waiting for pipeline " + pipeline, "run it again");
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the lock goes with the channel anyway
        }
    }
}
