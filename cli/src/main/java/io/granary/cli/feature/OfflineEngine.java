package io.granary.cli.feature;

/** Where a point-in-time join runs: in this process, on Spark, or wherever fits (auto). */
enum OfflineEngine { auto, local, spark }
