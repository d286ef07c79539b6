package io.granary.feature.registry;

import java.time.Instant;

/** A registered definition, its version (1, 2, ...) and when that version was applied. */
public record Versioned<T>(T value, int version, Instant appliedAt) {}
