package io.granary.dataset;

/**
 * How files are written into a dataset.
 *
 * @param evolve add columns the dataset lacks (as nullable) and widen types, instead of failing
 * @param threads the most writer threads to use; small inputs use fewer
 */
public record WriteOptions(boolean evolve, int threads) {

    public WriteOptions {
        if (threads < 1) {
            throw new io.granary.common.GranaryException("--threads must be at least 1, not " + threads, "");
        }
    }

    public static WriteOptions defaults() {
        return new WriteOptions(false, Runtime.getRuntime().availableProcessors());
    }

    public WriteOptions withEvolve(boolean value) {
        return new WriteOptions(value, threads);
    }
}
