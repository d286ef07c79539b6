package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.InProcessCache;
import io.granary.cache.NodeCache;
import io.granary.cache.daemon.DaemonClient;
import io.granary.cache.stage.CacheJobs;
import io.granary.cache.stage.StageResult;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.dataset.DatasetRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "stage", mixinStandardHelpOptions = true,
        description = {"Copy a snapshot's files into the node's cache: a table's data and delete files, a packed set's shards, index and manifest.",
            "Only missing files are copied, each verified while copying and committed atomically; a rerun reads only metadata."})
public final class StageCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "A dataset ref: NS.NAME (current snapshot), NS.NAME@TAG, @BRANCH or @SNAPSHOT_ID.")
    String ref;

    @Option(names = "--parallel", paramLabel = "N", description = "Files copied at once (default: cache.parallel, 8).")
    Integer parallel;

    @Option(names = "--follow", description = "Keep the ref staged as new snapshots land (a branch, a tag, or the current snapshot), until interrupted; the snapshot it replaced is unpinned.")
    boolean follow;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s", description = "How often --follow asks the catalog for a new snapshot (default: ${DEFAULT-VALUE}).")
    String interval;

    @Option(names = "--async", description = "Stage in a background process and return at once with a job id; `granary cache jobs` shows its progress.")
    boolean async;

    /** Set in the background process that runs an --async stage. */
    @Option(names = "--job", hidden = true)
    String job;

    @Override
    protected void run() throws Exception {
        if (follow) {
            follow();
            return;
        }
        if (job == null) {
            try (CacheAccess cache = context().cacheAccess()) {
                if (!async) {
                    print(out(), ref, cache.stage(DatasetRef.parse(ref), parallel == null ? 0 : parallel, true));
                } else if (cache instanceof DaemonClient daemon) {
                    CacheJobs.Job started = daemon.startJob(DatasetRef.parse(ref), parallel == null ? 0 : parallel);
                    out().printf("job %s: staging %s (%s) in the cache daemon (%s); `granary cache jobs` shows its progress%n",
                            started.id(), ref, started.snapshotKey(), daemon.where());
                } else {
                    startInBackground(((InProcessCache) cache).cache());
                }
            }
            return;
        }
        try (NodeCache cache = context().cache()) {
            int copies = parallel == null ? cache.settings().parallel() : parallel;
            CacheJobs jobs = new CacheJobs(cache.settings().root());
            CacheJobs.Job running = jobs.get(job).runBy(ProcessHandle.current().pid());
            jobs.save(running);
            try {
                // the snapshot the ref named when the job was started, even if a newer one landed since
                StageResult result = cache.stage(DatasetRef.parse(running.snapshotKey()), copies, false);
                java.io.StringWriter line = new java.io.StringWriter();
                print(new java.io.PrintWriter(line, true), ref, result);
                jobs.save(running.with(CacheJobs.Job.DONE, line.toString().strip()));
            } catch (RuntimeException e) {
                jobs.save(running.with(CacheJobs.Job.FAILED, e.getMessage()));
                throw e;
            }
        }
    }

    /** Checks the ref here (so a typo fails now, not in the background), then runs this stage in a process of its own. */
    private void startInBackground(NodeCache cache) throws java.io.IOException {
        String key = cache.resolve(DatasetRef.parse(ref)).key();
        CacheJobs jobs = new CacheJobs(cache.settings().root());
        CacheJobs.Job created = jobs.create(ref, key);
        java.util.List<String> command = BackgroundCommand.sameJvm();
        command.addAll(java.util.List.of("cache", "stage", ref, "--job", created.id(), "--data-dir=" + context().config().dataDir()));
        context().config().source().ifPresent(file -> command.addAll(java.util.List.of("--config", file.toString())));
        if (parallel != null) {
            command.addAll(java.util.List.of("--parallel", parallel.toString()));
        }
        java.nio.file.Path log = cache.settings().root().resolve("jobs").resolve(created.id() + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        jobs.save(created.runBy(process.pid()));
        out().printf("job %s: staging %s (%s) in the background, pid %d; `granary cache jobs` shows its progress, its log is %s%n",
                created.id(), ref, key, process.pid(), log);
    }

    private void follow() throws InterruptedException {
        java.time.Duration every = io.granary.common.Durations.parse(interval, "--interval");
        try (NodeCache cache = context().cache();
             io.granary.cache.stage.Follower follower = new io.granary.cache.stage.Follower(cache, DatasetRef.parse(ref), every,
                     parallel == null ? cache.settings().parallel() : parallel, result -> {
                         print(out(), ref, result);
                         out().flush();
                     })) {
            Thread main = Thread.currentThread();
            Thread stopper = new Thread(() -> {
                follower.close();
                main.interrupt();
            }, "granary-follow-stop");
            Runtime.getRuntime().addShutdownHook(stopper);
            out().println("following " + ref + " (checking every " + interval + "; Ctrl-C stops)");
            out().flush();
            try {
                follower.run();
            } catch (InterruptedException e) {
                // Ctrl-C: the pins go with the follower
            }
        }
    }

    public static void print(java.io.PrintWriter out, String ref, StageResult result) {
        out.printf("staged %s (%s): %s files, %s; copied %s files, %s; %s already cached%s in %s%n", ref, result.snapshotKey(),
                Formats.count(result.files()), Formats.bytes(result.bytes()), Formats.count(result.filesCopied()),
                Formats.bytes(result.bytesCopied()), Formats.count(result.filesCached()),
                result.evicted() > 0 ? "; evicted " + Formats.count(result.evicted()) + " files, " + Formats.bytes(result.bytesEvicted()) : "",
                Formats.seconds(result.elapsed()));
    }
}
