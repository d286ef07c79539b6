package io.granary.packer;

import java.nio.file.Path;

/** Packs SRC into OUT with small shards, one thread: the process that {@link ResumeTest} kills. */
public final class PackInChildProcess {

    public static void main(String[] args) throws Exception {
        new Packer(null, false).pack(ResumeTest.options(Path.of(args[0]), Path.of(args[1])));
    }
}
