package io.granary.cli.pack;

import io.granary.cli.Context;
import io.granary.dataset.DatasetName;
import io.granary.packer.ShardSet;
import java.nio.file.Files;
import java.nio.file.Path;

/** A shard set named on the command line: the --out directory of a pack, or the dataset it registered. */
final class ShardSetArgument {

    private ShardSetArgument() {}

    static ShardSet open(Context context, String argument) {
        Path dir = Path.of(argument);
        if (Files.isDirectory(dir) || argument.contains("/") || !argument.contains(".")) {
            return ShardSet.open(dir);
        }
        return ShardSet.open(context.datasets(), DatasetName.parse(argument));
    }
}
