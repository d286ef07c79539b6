package io.granary.packer;

import java.nio.file.Path;

/** A file to pack: its name in the shard (path relative to the source root), where it is, its size and mtime. */
record SourceMember(String name, String extension, Path path, long size, long mtimeMillis) {}
