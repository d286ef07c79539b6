package io.granary.feature.registry;

/** One feature of a view: a column of its source dataset, served as a Feast value type. */
public record Feature(String name, ValueType dtype) {}
