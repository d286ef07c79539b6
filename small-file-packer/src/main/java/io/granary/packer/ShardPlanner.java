package io.granary.packer;

import io.granary.packer.tar.TarHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Cuts a sequence of samples into shards: a shard closes before the sample that would take it
 * past the target size (or the sample count), so a sample never spans two shards; a sample larger
 * than the target gets a shard of its own.
 */
final class ShardPlanner implements Iterator<ShardPlan> {

    private final Iterator<SourceSample> samples;
    private final long shardBytes;
    private final int samplesPerShard;
    private int nextNumber;
    private SourceSample carried;

    ShardPlanner(Iterator<SourceSample> samples, long shardBytes, int samplesPerShard, int firstNumber) {
        this.samples = samples;
        this.shardBytes = shardBytes;
        this.samplesPerShard = samplesPerShard;
        this.nextNumber = firstNumber;
    }

    @Override
    public boolean hasNext() {
        return carried != null || samples.hasNext();
    }

    @Override
    public ShardPlan next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        List<SourceSample> shard = new ArrayList<>();
        long bytes = 2L * TarHeaders.BLOCK;
        while (carried != null || samples.hasNext()) {
            SourceSample sample = carried != null ? carried : samples.next();
            carried = null;
            long size = tarBytes(sample);
            boolean full = !shard.isEmpty() && (bytes + size > shardBytes || (samplesPerShard > 0 && shard.size() >= samplesPerShard));
            if (full) {
                carried = sample;
                break;
            }
            shard.add(sample);
            bytes += size;
        }
        return ShardPlan.of(nextNumber++, shard);
    }

    /** The bytes a sample takes in a tar: per member, its header blocks and its data padded to blocks. */
    static long tarBytes(SourceSample sample) {
        long total = 0;
        for (SourceMember member : sample.members()) {
            int nameBytes = member.name().getBytes(StandardCharsets.UTF_8).length;
            total += TarHeaders.BLOCK * (nameBytes > 100 || nameBytes != member.name().length() ? 4L : 1L);
            total += member.size() + TarHeaders.padding(member.size());
        }
        return total;
    }
}
