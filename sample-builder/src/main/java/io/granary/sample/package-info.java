/**
 * Sample builder: templates plus configs planned into DAGs of Spark nodes that turn labels and
 * features into versioned training-sample datasets. Filled by a later issue.
 */
package io.granary.sample;
