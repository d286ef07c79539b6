package io.granary.packer;

import java.util.List;
import java.util.Optional;

/** A sample read back from shards: its key and its members (files), in shard order. */
public record Sample(String key, List<Member> members) {

    /** One file of a sample: its name in the shard, its extension, its bytes. */
    public record Member(String name, String extension, byte[] data) {}

    public Sample {
        members = List.copyOf(members);
    }

    /** The member with this extension (e.g. "wav", "json"). */
    public Optional<Member> member(String extension) {
        return members.stream().filter(m -> m.extension().equals(extension)).findFirst();
    }

    public long bytes() {
        long total = 0;
        for (Member member : members) {
            total += member.data().length;
        }
        return total;
    }
}
