package io.granary.feature.registry;

import io.granary.common.yaml.YamlNode;

/** A definition and the YAML node it came from, so errors about it can name file:line. */
public record Located<T>(T value, YamlNode node) {}
