package io.granary.cache.stream;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Schema;

/** How a planned stream's units are read: the schema of its batches, and a decoder per reading rank. */
interface UnitReader {

    Schema schema();

    /** Lets go of what the reader keeps between streams (reusable buffers); it may still be used after. */
    default void release() {}

    /** A decoder for one rank's stream (it may keep files open between units), its buffers from {@code allocator}. */
    default Decoder decoder(BufferAllocator allocator) {
        return decoder(allocator, false);
    }

    /**
     * As {@link #decoder(BufferAllocator)}; with {@code keepBuffers}, the buffers of units done with
     * may be kept by the reader for later units of any stream (a server's allocator, which outlives
     * the streams; {@link #release} lets go of them).
     */
    Decoder decoder(BufferAllocator allocator, boolean keepBuffers);

    /** Decodes units one after another; not thread-safe. */
    interface Decoder extends AutoCloseable {

        /** The unit's rows in the columns of {@link #schema}; the caller closes it. */
        DecodedUnit decode(StreamUnit unit);

        @Override
        void close();
    }
}
