package io.granary.packer.tar;

/**
 * One member of a tar archive as read: its name (a PAX or GNU long name when there is one), type
 * flag, size, where its header blocks start and where its data starts.
 */
public record TarEntry(String name, char type, long size, long headerOffset, long dataOffset, long mtimeSeconds) {

    public boolean isRegularFile() {
        return type == '0' || type == '\0' || type == '7';
    }

    public boolean isDirectory() {
        return type == '5';
    }

    /** What the type flag means, for messages. */
    public String typeName() {
        return switch (type) {
            case '0', '\0', '7' -> "regular file";
            case '1' -> "hard link";
            case '2' -> "symbolic link";
            case '3' -> "character device";
            case '4' -> "block device";
            case '5' -> "directory";
            case '6' -> "FIFO";
            default -> "entry of type '" + type + "'";
        };
    }
}
