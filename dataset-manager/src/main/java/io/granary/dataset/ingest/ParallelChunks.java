package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BinaryOperator;
import java.util.function.Function;

/**
 * Maps the chunks of a file on several threads and merges the results in file order, holding at
 * most two chunks per thread in memory. Used where a whole file must be read but nothing written
 * (schema inference).
 */
final class ParallelChunks {

    /** Records {@code data[offset, end)}, the first starting on {@code firstLine}. */
    record Slice(byte[] data, int offset, int end, long firstLine) {
        static Slice of(ByteChunker.Chunk chunk) {
            return new Slice(chunk.data(), 0, chunk.length(), chunk.firstLine());
        }
    }

    private static final AtomicInteger POOLS = new AtomicInteger();

    private ParallelChunks() {}

    static <T> T reduce(Slice first, ByteChunker chunker, Function<Slice, T> map, BinaryOperator<T> merge, T identity)
            throws IOException {
        int threads = Runtime.getRuntime().availableProcessors();
        int pool = POOLS.incrementAndGet();
        AtomicInteger names = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "granary-scan-" + pool + "-" + names.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        Deque<Future<T>> pending = new ArrayDeque<>();
        T result = identity;
        try {
            if (first != null) {
                pending.add(executor.submit(() -> map.apply(first)));
            }
            ByteChunker.Chunk chunk;
            while ((chunk = chunker.next()) != null) {
                Slice slice = Slice.of(chunk);
                pending.add(executor.submit(() -> map.apply(slice)));
                while (pending.size() >= 2 * threads) {
                    result = merge.apply(result, await(pending.removeFirst()));
                }
            }
            while (!pending.isEmpty()) {
                result = merge.apply(result, await(pending.removeFirst()));
            }
            return result;
        } finally {
            executor.shutdownNow();
        }
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while reading", "run the command again");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
