package io.granary.packer;

import java.util.List;

/** The files of one sample, in the order they go into the shard. */
record SourceSample(String key, List<SourceMember> members) {

    SourceSample {
        members = List.copyOf(members);
    }

    long bytes() {
        long total = 0;
        for (SourceMember member : members) {
            total += member.size();
        }
        return total;
    }
}
