package io.granary.cache.stage;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Stages running in the background (`granary cache stage REF --async`): one small JSON file per
 * job under the cache root, written by the process that runs it, so any process can list them.
 * Progress is read from the cache itself (how much of the job's snapshot is cached).
 */
public final class CacheJobs {

    /** A job: what it stages, which process runs it, and how it ended. */
    public record Job(String id, String ref, String snapshotKey, long pid, long startedMillis, String state, String message,
                      long updatedMillis) {
        public static final String RUNNING = "running";
        public static final String DONE = "done";
        public static final String FAILED = "failed";

        public Job with(String newState, String newMessage) {
            return new Job(id, ref, snapshotKey, pid, startedMillis, newState, newMessage, System.currentTimeMillis());
        }

        public Job runBy(long processId) {
            return new Job(id, ref, snapshotKey, processId, startedMillis, state, message, System.currentTimeMillis());
        }

        /** This job with its {@link #effectiveState}, as it is shown to users (on this machine, where its process would run). */
        public Job settled() {
            return new Job(id, ref, snapshotKey, pid, startedMillis, effectiveState(), message, updatedMillis);
        }

        /** The state as a user should read it: a running job whose process is gone was interrupted. */
        public String effectiveState() {
            if (RUNNING.equals(state) && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                return "interrupted";
            }
            return state;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path dir;

    public CacheJobs(Path cacheRoot) {
        this.dir = cacheRoot.resolve("jobs");
    }

    public Job create(String ref, String snapshotKey) {
        long now = System.currentTimeMillis();
        Job job = new Job(UUID.randomUUID().toString().substring(0, 8), ref, snapshotKey, -1, now, Job.RUNNING, "", now);
        save(job);
        return job;
    }

    public Job get(String id) {
        Path file = dir.resolve(id + ".json");
        if (!Files.isRegularFile(file)) {
            throw GranaryException.notFound("no cache job " + id, "`granary cache jobs` lists them");
        }
        return read(file);
    }

    public void save(Job job) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.write(dir.resolve(job.id() + ".json"), out -> JSON.writeValue(out, job));
        } catch (IOException e) {
            throw new GranaryException("cannot record cache job " + job.id() + " in " + dir + ": " + e.getMessage(), "check that the cache disk is writable", e);
        }
    }

    /** Every job, the newest first. */
    public List<Job> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Job> jobs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).toList()) {
                jobs.add(read(file));
            }
        } catch (IOException e) {
            throw new GranaryException("cannot list the cache jobs in " + dir + ": " + e.getMessage(), "check its permissions", e);
        }
        jobs.sort(Comparator.comparingLong(Job::startedMillis).reversed());
        return jobs;
    }

    private static Job read(Path file) {
        try {
            return JSON.readValue(file.toFile(), Job.class);
        } catch (IOException e) {
            throw new GranaryException("cannot read the cache job " + file + ": " + e.getMessage(), "delete the file if the job is over", e);
        }
    }
}
