package io.granary.packer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sample content hashes seen so far, for --dedup: a sample's hash covers its members' extensions
 * and SHA-256s, so two samples are duplicates when they hold the same files under different keys.
 */
final class ContentHashes {

    private final Map<String, String> keysByHash = new ConcurrentHashMap<>();

    /** Records the sample; returns the key of an earlier sample with the same content, or null. */
    String claim(String sampleHash, String key) {
        return keysByHash.putIfAbsent(sampleHash, key);
    }

    /** The hash of a sample from its members' extensions and content SHA-256s (hex). */
    static String sampleHash(List<String> extensions, List<String> memberSha256) {
        Map<String, String> sorted = new TreeMap<>();
        for (int i = 0; i < extensions.size(); i++) {
            sorted.put(extensions.get(i), memberSha256.get(i));
        }
        MessageDigest digest = ShardPlan.sha256();
        sorted.forEach((extension, sha) -> {
            digest.update(extension.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(sha.getBytes(StandardCharsets.US_ASCII));
            digest.update((byte) '\n');
        });
        return HexFormat.of().formatHex(digest.digest());
    }
}
