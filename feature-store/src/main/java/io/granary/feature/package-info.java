/**
 * Feature store: feature registry, offline point-in-time retrieval, materialization into the
 * online store, and Feast-compatible online serving. Filled by the feature store issue.
 */
package io.granary.feature;
