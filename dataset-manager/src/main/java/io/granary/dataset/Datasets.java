package io.granary.dataset;

import io.granary.common.GranaryException;
import io.granary.common.IoFailures;
import io.granary.common.Progress;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.catalog.Catalogs;
import io.granary.dataset.ingest.Ingest;
import io.granary.dataset.ingest.SourceFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.ReplacePartitions;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotRef;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * Granary's versioned datasets: Iceberg tables in one catalog. Every write is one atomic Iceberg
 * commit that records its {@link Provenance}; every read can name a version (snapshot id, tag,
 * branch or time). The CLI's `granary dataset ...` commands are thin shells over these methods.
 */
public final class Datasets implements Closeable {

    /** Properties of every table Granary creates: Iceberg v2, Parquet with zstd. */
    static final Map<String, String> TABLE_PROPERTIES = Map.of(
            TableProperties.FORMAT_VERSION, "2",
            TableProperties.DEFAULT_FILE_FORMAT, "parquet",
            TableProperties.PARQUET_COMPRESSION, "zstd",
            TableProperties.COMMIT_NUM_RETRIES, "20",
            TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true",
            TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "100");

    private final Catalog catalog;

    public Datasets(Catalog catalog) {
        this.catalog = catalog;
    }

    public static Datasets open(CatalogSettings settings) {
        return new Datasets(Catalogs.open(settings));
    }

    public Catalog catalog() {
        return catalog;
    }

    // ---------------------------------------------------------------- lookup

    public List<String> namespaces() {
        if (!(catalog instanceof SupportsNamespaces namespaces)) {
            return List.of();
        }
        return namespaces.listNamespaces(Namespace.empty()).stream()
                .filter(ns -> ns.levels().length == 1)
                .map(ns -> ns.level(0))
                .filter(Datasets::isValidNamespace)
                .sorted()
                .toList();
    }

    private static boolean isValidNamespace(String name) {
        try {
            DatasetName.requireValidNamespace(name);
            return true;
        } catch (GranaryException e) {
            return false;
        }
    }

    /** Datasets in one namespace, or in all of them. */
    public List<DatasetName> list(Optional<String> namespace) {
        List<String> namespaces = namespace.map(List::of).orElseGet(this::namespaces);
        List<DatasetName> names = new ArrayList<>();
        for (String ns : namespaces) {
            DatasetName.requireValidNamespace(ns);
            try {
                for (TableIdentifier id : catalog.listTables(Namespace.of(ns))) {
                    names.add(new DatasetName(ns, id.name()));
                }
            } catch (NoSuchNamespaceException e) {
                if (namespace.isPresent()) {
                    throw unknownNamespace(ns);
                }
            }
        }
        names.sort(Comparator.comparing(DatasetName::toString));
        return names;
    }

    public boolean exists(DatasetName name) {
        return catalog.tableExists(name.identifier());
    }

    /** The table if the dataset exists (one metadata read, where exists-then-load takes two). */
    public Optional<Table> find(DatasetName name) {
        try {
            return Optional.of(catalog.loadTable(name.identifier()));
        } catch (NoSuchTableException | NoSuchNamespaceException e) {
            return Optional.empty();
        }
    }

    public Table load(DatasetName name) {
        try {
            return catalog.loadTable(name.identifier());
        } catch (NoSuchTableException | NoSuchNamespaceException e) {
            if (!namespaces().contains(name.namespace())) {
                throw unknownNamespace(name.namespace());
            }
            List<String> siblings = list(Optional.of(name.namespace())).stream().map(DatasetName::toString).toList();
            throw GranaryException.notFound("unknown dataset " + name,
                    siblings.isEmpty() ? "namespace " + name.namespace() + " has no datasets yet"
                            : "datasets in " + name.namespace() + ": " + String.join(", ", siblings));
        }
    }

    private GranaryException unknownNamespace(String namespace) {
        List<String> known = namespaces();
        return GranaryException.notFound("unknown namespace " + namespace,
                known.isEmpty() ? "no datasets exist yet: create one with `granary dataset create NS.NAME --from FILE`"
                        : "namespaces: " + String.join(", ", known));
    }

    /** Pins a ref to a snapshot: its id, its tag or branch head, or the snapshot current at its time. */
    public ResolvedRef resolve(DatasetRef ref) {
        Table table = load(ref.dataset());
        if (ref.version().isEmpty()) {
            return new ResolvedRef(ref, table, Optional.ofNullable(table.currentSnapshot()));
        }
        Version version = ref.version().get();
        if (version instanceof Version.SnapshotId id) {
            Snapshot snapshot = table.snapshot(id.id());
            if (snapshot == null) {
                throw GranaryException.notFound("no snapshot " + id.id() + " in " + ref.dataset(),
                        "it may have been expired; list snapshots with `granary dataset log " + ref.dataset() + "`");
            }
            return new ResolvedRef(ref, table, Optional.of(snapshot));
        }
        if (version instanceof Version.Named named) {
            SnapshotRef snapshotRef = table.refs().get(named.name());
            if (snapshotRef == null) {
                throw GranaryException.notFound("no tag or branch '" + named.name() + "' in " + ref.dataset(),
                        table.refs().isEmpty() ? ref.dataset() + " has no tags or branches yet"
                                : "tags and branches: " + String.join(", ", new TreeMap<>(table.refs()).keySet()));
            }
            return new ResolvedRef(ref, table, Optional.of(table.snapshot(snapshotRef.snapshotId())));
        }
        Instant time = ((Version.AsOf) version).time();
        try {
            long id = SnapshotUtil.snapshotIdAsOfTime(table, time.toEpochMilli());
            return new ResolvedRef(ref, table, Optional.of(table.snapshot(id)));
        } catch (IllegalArgumentException e) {
            Optional<Instant> first = table.history().stream()
                    .map(entry -> Instant.ofEpochMilli(entry.timestampMillis())).min(Comparator.naturalOrder());
            throw GranaryException.notFound(ref.dataset() + " has no snapshot at or before " + time,
                    first.map(t -> "its first snapshot was committed at " + t).orElse(ref.dataset() + " has no snapshots yet"));
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * Creates a dataset, from a declared schema, from files (schema inferred from all their
     * values), or both. Table and first snapshot appear in one commit, or not at all.
     */
    public WriteResult create(DatasetName name, List<Path> files, Optional<SchemaFile> declared,
                              List<String> partitionBy, WriteOptions options, Provenance provenance) {
        if (files.isEmpty() && declared.isEmpty()) {
            throw new GranaryException("nothing to create " + name + " from",
                    "give input files with --from FILE, or a schema with --schema FILE.yaml");
        }
        if (exists(name)) {
            throw GranaryException.alreadyExists("dataset " + name + " already exists",
                    "add rows with `granary dataset append " + name + " FILE`, or replace them with `granary dataset overwrite`");
        }
        List<SourceFile> sources = files.stream().map(SourceFile::of).toList();
        Schema schema = declared.map(SchemaFile::schema).orElseGet(() -> Ingest.inferSchema(sources));
        List<String> partitionFields = partitionBy.isEmpty() ? declared.map(SchemaFile::partitionBy).orElse(List.of()) : partitionBy;
        PartitionSpec spec = PartitionSpecs.parse(schema, partitionFields);
        Provenance withInputs = provenance.withInputs(fileInputs(provenance, sources));
        return create(name, schema, spec, Map.of(), table -> sources.isEmpty() ? List.of()
                : write(table, table.schema(), sources, options, name).files(), withInputs);
    }

    /**
     * Creates a dataset whose data files {@code writer} writes into the new table's location, table
     * and first snapshot in one commit (or nothing: on failure the files are deleted).
     */
    public WriteResult createFromFiles(DatasetName name, Schema schema, java.util.function.Function<Table, List<DataFile>> writer,
                                       Provenance provenance) {
        return createFromFiles(name, schema, Map.of(), writer, provenance);
    }

    /** As {@link #createFromFiles(DatasetName, Schema, java.util.function.Function, Provenance)}, the table given {@code properties} too. */
    public WriteResult createFromFiles(DatasetName name, Schema schema, Map<String, String> properties,
                                       java.util.function.Function<Table, List<DataFile>> writer, Provenance provenance) {
        if (exists(name)) {
            throw GranaryException.alreadyExists("dataset " + name + " already exists", "choose another name, or drop it first");
        }
        return create(name, schema, PartitionSpec.unpartitioned(), properties, writer, provenance);
    }

    /** The table and, when the writer wrote any files, its first snapshot, in one commit. */
    private WriteResult create(DatasetName name, Schema schema, PartitionSpec spec, Map<String, String> properties,
                               java.util.function.Function<Table, List<DataFile>> writer, Provenance provenance) {
        ensureNamespace(name.namespace());
        Transaction create;
        try {
            create = catalog.buildTable(name.identifier(), schema)
                    .withPartitionSpec(spec)
                    .withProperties(TABLE_PROPERTIES)
                    .withProperties(properties)
                    .createTransaction();
        } catch (AlreadyExistsException e) {
            throw GranaryException.alreadyExists("dataset " + name + " already exists", "choose another name");
        }
        List<DataFile> files = writer.apply(create.table());
        try {
            if (!files.isEmpty()) {
                AppendFiles append = create.newAppend();
                files.forEach(append::appendFile);
                stamp(append, provenance);
                append.commit();
            }
            create.commitTransaction();
        } catch (AlreadyExistsException e) {
            deleteFiles(create.table(), files);
            throw GranaryException.alreadyExists("dataset " + name + " was created by someone else meanwhile",
                    "choose another name, or append to it");
        } catch (RuntimeException e) {
            deleteFiles(create.table(), files);
            throw IoFailures.whileWriting("the metadata of " + name, create.table().location(), e);
        }
        long rows = files.stream().mapToLong(DataFile::recordCount).sum();
        long bytes = files.stream().mapToLong(DataFile::fileSizeInBytes).sum();
        long snapshotId = files.isEmpty() ? -1 : snapshotOfRun(load(name), SnapshotRef.MAIN_BRANCH, provenance.runId());
        return new WriteResult(name, SnapshotRef.MAIN_BRANCH, snapshotId, rows, files.size(), bytes, List.of(), provenance.runId());
    }

    /**
     * Creates an empty dataset with this schema (Iceberg v2, Parquet with zstd, as every dataset)
     * plus {@code properties}, for writers that produce their own data files (the packer's index).
     */
    public Table createEmpty(DatasetName name, Schema schema, Map<String, String> properties) {
        ensureNamespace(name.namespace());
        Map<String, String> all = new java.util.HashMap<>(TABLE_PROPERTIES);
        all.putAll(properties);
        try {
            return catalog.buildTable(name.identifier(), schema).withProperties(all).create();
        } catch (AlreadyExistsException e) {
            throw GranaryException.alreadyExists("dataset " + name + " already exists", "choose another name");
        }
    }

    /**
     * Replaces every row of the main branch with data files written elsewhere (with this table's
     * field ids), in one commit stamped with the provenance; returns the new snapshot's id. The
     * history stays: earlier snapshots still read the rows replaced.
     */
    public long replaceDataFiles(DatasetName name, List<DataFile> files, Provenance provenance) {
        Table table = load(name);
        org.apache.iceberg.OverwriteFiles overwrite = table.newOverwrite().overwriteByRowFilter(org.apache.iceberg.expressions.Expressions.alwaysTrue());
        files.forEach(overwrite::addFile);
        stamp(overwrite, provenance);
        try {
            overwrite.commit();
        } catch (RuntimeException e) {
            throw IoFailures.whileWriting("the metadata of " + name, table.location(), e);
        }
        table.refresh();
        return snapshotOfRun(table, SnapshotRef.MAIN_BRANCH, provenance.runId());
    }

    /**
     * Adds data files written elsewhere (with this table's field ids) to the main branch in one
     * commit, stamped with the provenance and {@code summary}; returns the new snapshot's id.
     */
    public long appendDataFiles(DatasetName name, List<DataFile> files, Provenance provenance, Map<String, String> summary) {
        Table table = load(name);
        AppendFiles append = table.newAppend();
        files.forEach(append::appendFile);
        stamp(append, provenance);
        summary.forEach(append::set);
        try {
            append.commit();
        } catch (RuntimeException e) {
            throw IoFailures.whileWriting("the metadata of " + name, table.location(), e);
        }
        table.refresh();
        return snapshotOfRun(table, SnapshotRef.MAIN_BRANCH, provenance.runId());
    }

    /** Adds the rows of {@code files} in one commit, to the main branch or the branch the ref names. */
    public WriteResult append(DatasetRef target, List<Path> files, WriteOptions options, Provenance provenance) {
        return write(target, files, options, provenance, transaction -> {
            AppendFiles append = transaction.newAppend();
            return new PendingWrite<>(append, append::appendFile);
        });
    }

    /**
     * Replaces the rows of the dataset (or, with {@code onlyPartitions}, of the partitions the files
     * touch) with those of {@code files}, in one commit. Fails rather than drop rows that another
     * writer committed meanwhile.
     */
    public WriteResult overwrite(DatasetRef target, List<Path> files, boolean onlyPartitions,
                                 WriteOptions options, Provenance provenance) {
        return write(target, files, options, provenance, transaction -> {
            Snapshot base = transaction.table().currentSnapshot();
            if (onlyPartitions) {
                ReplacePartitions replace = transaction.newReplacePartitions().validateNoConflictingData().validateNoConflictingDeletes();
                if (base != null) {
                    replace.validateFromSnapshot(base.snapshotId());
                }
                return new PendingWrite<>(replace, replace::addFile);
            }
            OverwriteFiles overwrite = transaction.newOverwrite()
                    .overwriteByRowFilter(Expressions.alwaysTrue())
                    .validateNoConflictingData()
                    .validateNoConflictingDeletes();
            if (base != null) {
                overwrite.validateFromSnapshot(base.snapshotId());
            }
            return new PendingWrite<>(overwrite, overwrite::addFile);
        });
    }

    /** A snapshot-producing update and how to add a data file to it. */
    private record PendingWrite<T extends SnapshotUpdate<T>>(SnapshotUpdate<T> update, Consumer<DataFile> add) {}

    private WriteResult write(DatasetRef target, List<Path> files, WriteOptions options, Provenance provenance,
                              java.util.function.Function<Transaction, PendingWrite<?>> operation) {
        if (files.isEmpty()) {
            throw new GranaryException("no input files given", "name one or more CSV, JSON Lines or Parquet files");
        }
        Table table = load(target.dataset());
        String branch = branchOf(target, table);
        List<SourceFile> sources = files.stream().map(SourceFile::of).toList();
        Ingest.SchemaChanges changes = Ingest.planChanges(sources, table.schema(), options.evolve());

        Transaction transaction = table.newTransaction();
        if (!changes.isEmpty()) {
            UpdateSchema update = transaction.updateSchema();
            changes.applyTo(update);
            update.commit();
        }
        Provenance withInputs = provenance.withInputs(fileInputs(provenance, sources));
        Ingest.Written written = write(transaction.table(), transaction.table().schema(), sources, options, target.dataset());
        try {
            PendingWrite<?> pending = operation.apply(transaction);
            written.files().forEach(pending.add());
            if (!branch.equals(SnapshotRef.MAIN_BRANCH)) {
                pending.update().toBranch(branch);
            }
            stamp(pending.update(), withInputs);
            pending.update().commit();
            transaction.commitTransaction();
        } catch (ValidationException e) {
            deleteFiles(table, written.files());
            throw new GranaryException(GranaryException.Kind.CONFLICT,
                    target.dataset() + " changed while this write ran: " + e.getMessage(),
                    "nothing was written; run the command again", e);
        } catch (CommitFailedException e) {
            deleteFiles(table, written.files());
            throw new GranaryException(GranaryException.Kind.CONFLICT,
                    "could not commit to " + target.dataset() + " after retries: " + e.getMessage(),
                    "nothing was written; other writers are busy, run the command again", e);
        } catch (RuntimeException e) {
            deleteFiles(table, written.files());
            throw IoFailures.whileWriting("the metadata of " + target.dataset(), table.location(), e);
        }
        table.refresh();
        long snapshotId = snapshotOfRun(table, branch, withInputs.runId());
        return new WriteResult(target.dataset(), branch, snapshotId, written.rows(), written.files().size(),
                written.bytes(), changes.describe(), withInputs.runId());
    }

    private static Ingest.Written write(Table table, Schema schema, List<SourceFile> sources, WriteOptions options,
                                        DatasetName name) {
        long totalBytes = sources.stream().mapToLong(SourceFile::size).sum();
        boolean sizesKnown = sources.stream().noneMatch(SourceFile::gzip);
        try (Progress progress = totalBytes > (64L << 20)
                ? Progress.start("writing " + name, "rows", -1).withTotalBytes(sizesKnown ? totalBytes : -1)
                : Progress.silent("writing " + name, "rows")) {
            return Ingest.write(table, schema, sources, options.threads(), progress);
        } catch (RuntimeException e) {
            throw IoFailures.whileWriting("the data files of " + name, table.location(), e);
        }
    }

    private static List<String> fileInputs(Provenance provenance, List<SourceFile> sources) {
        List<String> inputs = new ArrayList<>(provenance.inputs());
        sources.forEach(source -> inputs.add(source.uri()));
        return inputs;
    }

    /** The branch a write goes to: main, or the existing branch the ref names; fails for tags and ids. */
    public static String branchOf(DatasetRef target, Table table) {
        if (target.version().isEmpty()) {
            return SnapshotRef.MAIN_BRANCH;
        }
        if (target.version().get() instanceof Version.Named named) {
            SnapshotRef ref = table.refs().get(named.name());
            if (ref != null && ref.isBranch()) {
                return named.name();
            }
            if (ref != null) {
                throw new GranaryException("cannot write to tag '" + named.name() + "' of " + target.dataset() + ": tags are fixed",
                        "write to a branch instead: `granary dataset branch " + target.dataset() + " NAME`");
            }
            throw GranaryException.notFound("no branch '" + named.name() + "' in " + target.dataset(),
                    "create it first: `granary dataset branch " + target.dataset() + " " + named.name() + "`");
        }
        throw new GranaryException("cannot write to " + target + ": only the latest version or a branch can take new rows",
                "write to " + target.dataset() + " or to " + target.dataset() + "@BRANCH");
    }

    private static void stamp(SnapshotUpdate<?> update, Provenance provenance) {
        provenance.toSummary().forEach(update::set);
    }

    /** The snapshot a run committed: walk back from the branch head, as others may have committed since. */
    public static long snapshotOfRun(Table table, String branch, String runId) {
        Snapshot head = table.snapshot(branch);
        for (Snapshot snapshot = head; snapshot != null;
             snapshot = snapshot.parentId() == null ? null : table.snapshot(snapshot.parentId())) {
            if (runId.equals(snapshot.summary().get(Provenance.RUN_ID))) {
                return snapshot.snapshotId();
            }
        }
        return head == null ? -1 : head.snapshotId();
    }

    private static void deleteFiles(Table table, List<DataFile> files) {
        for (DataFile file : files) {
            try {
                table.io().deleteFile(file.location());
            } catch (RuntimeException ignored) {
                // an orphan data file is invisible to readers; best effort is enough
            }
        }
    }

    private void ensureNamespace(String namespace) {
        if (catalog instanceof SupportsNamespaces namespaces && !namespaces.namespaceExists(Namespace.of(namespace))) {
            try {
                namespaces.createNamespace(Namespace.of(namespace));
            } catch (AlreadyExistsException raced) {
                // created by a concurrent writer: fine
            }
        }
    }

    /** Removes a dataset from the catalog; with {@code purge} its files too. */
    public void drop(DatasetName name, boolean purge) {
        load(name);
        catalog.dropTable(name.identifier(), purge);
    }

    // ---------------------------------------------------------------- reads

    /** The rows of a dataset at a version, in its schema at that version. Close the iterable. */
    public CloseableIterable<Record> scan(ResolvedRef resolved) {
        if (resolved.snapshot().isEmpty()) {
            return CloseableIterable.empty();
        }
        return IcebergGenerics.read(resolved.table()).useSnapshot(resolved.snapshot().get().snapshotId()).build();
    }

    /** The first {@code limit} rows at a version. */
    public List<Record> head(DatasetRef ref, int limit) {
        ResolvedRef resolved = resolve(ref);
        List<Record> rows = new ArrayList<>();
        try (CloseableIterable<Record> records = scan(resolved)) {
            for (Record record : records) {
                if (rows.size() >= limit) {
                    break;
                }
                rows.add(record.copy());
            }
        } catch (IOException e) {
            throw new GranaryException("cannot read " + ref + ": " + e.getMessage(), "check the warehouse is reachable", e);
        }
        return rows;
    }

    // ---------------------------------------------------------------- metadata

    /** A dataset at a version: schema, partitioning, snapshot totals, tags and branches. */
    public DatasetInfo describe(DatasetRef ref) {
        ResolvedRef resolved = resolve(ref);
        Table table = resolved.table();
        Map<Long, List<String>> refsBySnapshot = refsBySnapshot(table);
        Map<String, Long> tags = new TreeMap<>();
        Map<String, Long> branches = new TreeMap<>();
        table.refs().forEach((refName, snapshotRef) -> (snapshotRef.isBranch() ? branches : tags).put(refName, snapshotRef.snapshotId()));
        int formatVersion = Integer.parseInt(table.properties().getOrDefault(TableProperties.FORMAT_VERSION,
                String.valueOf(((org.apache.iceberg.HasTableOperations) table).operations().current().formatVersion())));
        return new DatasetInfo(ref, table.location(), formatVersion, resolved.schema(), table.spec(),
                resolved.snapshot().map(s -> SnapshotInfo.of(s, refsBySnapshot.getOrDefault(s.snapshotId(), List.of()))),
                tags, branches, new TreeMap<>(table.properties()),
                (int) java.util.stream.StreamSupport.stream(table.snapshots().spliterator(), false).count());
    }

    /** Every snapshot the dataset still has, newest first. */
    public List<SnapshotInfo> history(DatasetName name) {
        Table table = load(name);
        Map<Long, List<String>> refs = refsBySnapshot(table);
        List<SnapshotInfo> snapshots = new ArrayList<>();
        for (Snapshot snapshot : table.snapshots()) {
            snapshots.add(SnapshotInfo.of(snapshot, refs.getOrDefault(snapshot.snapshotId(), List.of())));
        }
        snapshots.sort(Comparator.comparing(SnapshotInfo::committedAt).thenComparing(SnapshotInfo::id).reversed());
        return snapshots;
    }

    private static Map<Long, List<String>> refsBySnapshot(Table table) {
        Map<Long, List<String>> refs = new LinkedHashMap<>();
        new TreeMap<>(table.refs()).forEach((name, ref) ->
                refs.computeIfAbsent(ref.snapshotId(), id -> new ArrayList<>()).add(ref.isBranch() ? "branch:" + name : "tag:" + name));
        return refs;
    }

    /** Tags a snapshot (the current one by default); {@code move} lets an existing tag move. */
    public long tag(DatasetName name, String tag, OptionalLong snapshotId, boolean move) {
        Version.requireValidRefName(tag);
        Table table = load(name);
        long id = snapshotToMark(table, name, snapshotId, "tag");
        SnapshotRef existing = table.refs().get(tag);
        if (existing != null && existing.isBranch()) {
            throw GranaryException.alreadyExists("'" + tag + "' is a branch of " + name, "choose another tag name");
        }
        if (existing != null && !move) {
            throw GranaryException.alreadyExists("tag '" + tag + "' of " + name + " already exists (at snapshot " + existing.snapshotId() + ")",
                    "choose another name, or pass --force to move it");
        }
        if (existing != null) {
            table.manageSnapshots().replaceTag(tag, id).commit();
        } else {
            table.manageSnapshots().createTag(tag, id).commit();
        }
        return id;
    }

    /** Starts a branch at a snapshot (the current one by default). */
    public long branch(DatasetName name, String branch, OptionalLong snapshotId) {
        Version.requireValidRefName(branch);
        Table table = load(name);
        long id = snapshotToMark(table, name, snapshotId, "branch");
        if (table.refs().containsKey(branch)) {
            throw GranaryException.alreadyExists("'" + branch + "' already exists in " + name
                    + " (a " + (table.refs().get(branch).isBranch() ? "branch" : "tag") + ")", "choose another name");
        }
        table.manageSnapshots().createBranch(branch, id).commit();
        return id;
    }

    private static long snapshotToMark(Table table, DatasetName name, OptionalLong snapshotId, String what) {
        if (snapshotId.isPresent()) {
            if (table.snapshot(snapshotId.getAsLong()) == null) {
                throw GranaryException.notFound("no snapshot " + snapshotId.getAsLong() + " in " + name,
                        "list snapshots with `granary dataset log " + name + "`");
            }
            return snapshotId.getAsLong();
        }
        if (table.currentSnapshot() == null) {
            throw new GranaryException(name + " has no snapshot to " + what + " yet", "append rows to it first");
        }
        return table.currentSnapshot().snapshotId();
    }

    /**
     * Expires snapshots older than {@code olderThan}, keeping at least the last {@code retainLast}
     * of each branch. Tagged snapshots and branch heads are never expired. Files are deleted by
     * Iceberg's rule: a data file goes when the snapshot that removed it from the table expires,
     * so no kept snapshot can lose a file it reads.
     */
    public ExpireResult expire(DatasetName name, Instant olderThan, int retainLast) {
        if (retainLast < 1) {
            throw new GranaryException("--retain-last must be at least 1, not " + retainLast, "the current snapshot is always kept");
        }
        Table table = load(name);
        List<SnapshotInfo> before = history(name);
        if (!before.isEmpty()) {
            table.expireSnapshots()
                    .expireOlderThan(olderThan.toEpochMilli())
                    .retainLast(retainLast)
                    .commit();
        }
        table.refresh();
        Set<Long> remaining = new HashSet<>();
        table.snapshots().forEach(s -> remaining.add(s.snapshotId()));
        List<SnapshotInfo> expired = before.stream().filter(s -> !remaining.contains(s.id())).toList();
        List<SnapshotInfo> kept = before.stream().filter(s -> remaining.contains(s.id())).toList();
        return new ExpireResult(name, expired, kept);
    }

    // ---------------------------------------------------------------- lineage

    /**
     * The upstream graph of a snapshot: the commits whose rows it holds (back to the last one that
     * replaced everything), and for each its inputs, following input datasets recursively.
     */
    public LineageNode lineage(DatasetRef ref) {
        ResolvedRef resolved = resolve(ref);
        return datasetNode(resolved.table(), ref.dataset(), resolved.snapshot().orElse(null), new HashSet<>(), 0);
    }

    private static final int MAX_LINEAGE_DEPTH = 16;
    private static final int MAX_COMMITS_SHOWN = 50;

    private LineageNode datasetNode(Table table, DatasetName name, Snapshot snapshot, Set<String> visiting, int depth) {
        if (snapshot == null) {
            return new LineageNode(LineageNode.Kind.DATASET, name.toString(), "no snapshots", List.of());
        }
        String label = name + "@" + snapshot.snapshotId();
        if (!visiting.add(label) || depth > MAX_LINEAGE_DEPTH) {
            return new LineageNode(LineageNode.Kind.DATASET, label, "(shown above)", List.of());
        }
        Map<Long, List<String>> refs = refsBySnapshot(table);
        List<LineageNode> commits = new ArrayList<>();
        Snapshot current = snapshot;
        while (current != null) {
            if (commits.size() == MAX_COMMITS_SHOWN) {
                commits.add(new LineageNode(LineageNode.Kind.COMMIT, "...", "earlier commits not shown", List.of()));
                break;
            }
            SnapshotInfo info = SnapshotInfo.of(current, refs.getOrDefault(current.snapshotId(), List.of()));
            commits.add(commitNode(info, visiting, depth));
            boolean keepsEarlierRows = info.totalRows() - info.addedRows() > 0 || info.operation().equals("replace");
            current = keepsEarlierRows && current.parentId() != null ? table.snapshot(current.parentId()) : null;
        }
        visiting.remove(label);
        SnapshotInfo info = SnapshotInfo.of(snapshot, List.of());
        return new LineageNode(LineageNode.Kind.DATASET, label, info.totalRows() + " rows", commits);
    }

    private LineageNode commitNode(SnapshotInfo info, Set<String> visiting, int depth) {
        StringBuilder detail = new StringBuilder(info.committedAt().toString());
        List<LineageNode> inputs = new ArrayList<>();
        String what = info.operation();
        if (info.provenance().isPresent()) {
            Provenance provenance = info.provenance().get();
            what = provenance.command();
            detail.append(" by ").append(provenance.user()).append(", run ").append(provenance.runId(), 0, Math.min(8, provenance.runId().length()));
            for (String input : provenance.inputs()) {
                inputs.add(inputNode(input, visiting, depth));
            }
        }
        detail.append(", +").append(info.addedRows()).append(" rows");
        if (!info.refs().isEmpty()) {
            detail.append(", ").append(String.join(", ", info.refs()));
        }
        return new LineageNode(LineageNode.Kind.COMMIT, "snapshot " + info.id() + " " + what, detail.toString(), inputs);
    }

    private LineageNode inputNode(String input, Set<String> visiting, int depth) {
        if (input.contains("://") || input.startsWith("file:")) {
            return new LineageNode(LineageNode.Kind.FILE, input, "", List.of());
        }
        try {
            DatasetRef ref = DatasetRef.parse(input);
            ResolvedRef resolved = resolve(ref);
            return datasetNode(resolved.table(), ref.dataset(), resolved.snapshot().orElse(null), visiting, depth + 1);
        } catch (GranaryException e) {
            return new LineageNode(LineageNode.Kind.MISSING, input, e.getMessage(), List.of());
        }
    }

    @Override
    public void close() throws IOException {
        if (catalog instanceof Closeable closeable) {
            closeable.close();
        }
    }
}
