package io.granary.dataset;

import java.util.List;

/**
 * One node of a snapshot's upstream graph: a dataset snapshot, one of the commits whose rows it
 * holds, or an input of such a commit (another dataset snapshot, or a file).
 */
public record LineageNode(Kind kind, String name, String detail, List<LineageNode> upstream) {

    /** What a node stands for. */
    public enum Kind {
        DATASET, COMMIT, FILE, MISSING
    }

    public LineageNode {
        upstream = List.copyOf(upstream);
    }
}
