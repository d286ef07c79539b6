package io.granary.cache.stream;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.types.pojo.Schema;

/** How a planned stream's units are read: the schema of its batches, and a decoder per reading rank. */
interface UnitReader {

    Schema schema();

    /** A decoder for one rank's stream (it may keep files open between units), its buffers from {@code allocator}. */
    Decoder decoder(BufferAllocator allocator);

    /** Decodes units one after another; not thread-safe. */
    interface Decoder extends AutoCloseable {

        /** The unit's rows in the columns of {@link #schema}; the caller closes it. */
        DecodedUnit decode(StreamUnit unit);

        @Override
        void close();
    }
}
