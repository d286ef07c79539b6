package io.granary.sample.plan;

/** What a run does with a node. */
public enum Action {
    /** Compute it: no committed output has its fingerprint. */
    RUN,
    /** Its output with this fingerprint is committed (or it passes its input through): nothing to do. */
    SKIP
}
