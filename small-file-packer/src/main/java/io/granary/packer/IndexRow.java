package io.granary.packer;

/**
 * One member in the index: its sample key and extension, its name in the shard, the shard file,
 * where its header and data start, its size, CRC32C, the source file's mtime and, when packed
 * with --dedup, the SHA-256 of its content.
 */
public record IndexRow(String key, String extension, String member, String shard, long headerOffset, long offset,
                       long size, long crc32c, long mtimeMillis, String sha256) {}
