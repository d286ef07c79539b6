package io.granary.sample.component;

/** Where nodes run: in this process where a component can and the data is small (auto), always on Spark, or only in process. */
public enum Engine { auto, local, spark }
