package io.granary.packer;

import java.util.Optional;

/**
 * WebDataset's grouping rule: a member's key is its path up to the first '.' of its file name,
 * the rest is its extension ("spk1/utt7.wav" and "spk1/utt7.json" are sample "spk1/utt7").
 */
public final class SampleKeys {

    /** A member name split into sample key and extension. */
    public record KeyAndExtension(String key, String extension) {}

    private SampleKeys() {}

    /** Empty when WebDataset could not key the name: no '.' after the first character of the file name. */
    public static Optional<KeyAndExtension> split(String memberName) {
        int slash = memberName.lastIndexOf('/');
        int nameStart = slash + 1;
        int dot = memberName.indexOf('.', nameStart);
        if (dot <= nameStart) {
            return Optional.empty();
        }
        return Optional.of(new KeyAndExtension(memberName.substring(0, dot), memberName.substring(dot + 1)));
    }
}
