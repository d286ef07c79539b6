package io.granary.cli.pack;

import io.granary.cli.Context;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.packer.ShardSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A shard set named on the command line: the --out directory of a pack, or the dataset it registered. */
final class ShardSetArgument {

    private ShardSetArgument() {}

    /** A directory if there is one of that name, else an existing dataset; otherwise the directory's "no shard set" error. */
    static ShardSet open(Context context, String argument) {
        Path dir = Path.of(argument);
        if (!Files.isDirectory(dir)) {
            Optional<DatasetName> dataset = datasetName(argument);
            if (dataset.isPresent() && context.datasets().exists(dataset.get())) {
                return ShardSet.open(context.datasets(), dataset.get());
            }
        }
        return ShardSet.open(dir);
    }

    private static Optional<DatasetName> datasetName(String argument) {
        if (argument.contains("/")) {
            return Optional.empty();
        }
        try {
            return Optional.of(DatasetName.parse(argument));
        } catch (GranaryException notADatasetName) {
            return Optional.empty();
        }
    }
}
