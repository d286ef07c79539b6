package io.granary.sample.plan;

/** What a run does with a node. */
public enum Action {
    /** Compute it: no committed output has its fingerprint. */
    RUN,
    /**
     * Compute only the rows its input gained by appends, and add them to its last output: it is
     * row-local, and nothing else it reads changed.
     */
    INCREMENTAL,
    /** Its output with this fingerprint is committed (or it passes its input through): nothing to do. */
    SKIP
}
