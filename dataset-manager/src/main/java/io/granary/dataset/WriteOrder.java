package io.granary.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The order in which the rows of a table snapshot were written: its data files by data sequence
 * number (the commit that wrote their rows), then by their place in that commit's manifests; a
 * file's rows by their position in it. "The last written row wins" is decided by this order, by
 * every engine and by the online store, whenever rows of a key tie on event and created time.
 * Iceberg's scans list files in no such order (the newest manifests come first), so every reader
 * that lets a later row win sorts its files with this.
 *
 * <p>Rows that a rewrite (compaction) moved into new files keep the order only as far as the
 * rewrite kept them in order; Granary itself never rewrites data files.
 */
public final class WriteOrder {

    /**
     * A data file's place in the order: its data sequence number, and its ordinal among the live data
     * files of that sequence number. A row's place is its file's and then its position in the file.
     */
    public record Place(long sequence, int ordinal) {

        /** Row positions take the low 40 bits of {@link #rowOrder}: a file of more rows than that is not written. */
        private static final int POSITION_BITS = 40;

        /** The order of a row of this file within its commit: the file's ordinal, then the row's position. */
        public long rowOrder(long position) {
            if (position < 0 || position >= 1L << POSITION_BITS || ordinal >= 1 << (63 - POSITION_BITS)) {
                throw new IllegalArgumentException("row " + position + " of file " + ordinal + " is beyond the write order's range");
            }
            return (long) ordinal << POSITION_BITS | position;
        }
    }

    private final List<FileScanTask> tasks;
    private final Map<String, Place> places;

    private WriteOrder(List<FileScanTask> tasks, Map<String, Place> places) {
        this.tasks = tasks;
        this.places = places;
    }

    /** The write order of every live data file of {@code snapshot} (none when it is absent). */
    public static WriteOrder of(Table table, Optional<Snapshot> snapshot) {
        if (snapshot.isEmpty()) {
            return new WriteOrder(List.of(), Map.of());
        }
        List<FileScanTask> planned = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.get().snapshotId()).planFiles()) {
            tasks.forEach(planned::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<FileScanTask> sorted = sort(table, snapshot.get(), planned);
        Map<String, Place> places = new HashMap<>();
        long sequence = Long.MIN_VALUE;
        int ordinal = 0;
        for (FileScanTask task : sorted) {
            long fileSequence = sequenceOf(task.file());
            ordinal = fileSequence == sequence ? ordinal + 1 : 0;
            sequence = fileSequence;
            places.put(task.file().location(), new Place(sequence, ordinal));
        }
        return new WriteOrder(List.copyOf(sorted), places);
    }

    /** A scan task per data file (each whole file, with the delete files that apply to it), first written first. */
    public List<FileScanTask> tasks() {
        return tasks;
    }

    /** The data files, first written first. */
    public List<DataFile> files() {
        return tasks.stream().map(FileScanTask::file).toList();
    }

    /** The place of a data file of the snapshot; empty for a file it does not hold. */
    public Optional<Place> place(String location) {
        return Optional.ofNullable(places.get(location));
    }

    /** The index of a data file in {@link #files()}: its rank in the whole order; -1 for a file the snapshot does not hold. */
    public Map<String, Integer> ranks() {
        Map<String, Integer> ranks = new HashMap<>();
        for (int i = 0; i < tasks.size(); i++) {
            ranks.put(tasks.get(i).file().location(), i);
        }
        return ranks;
    }

    /**
     * Sorts the tasks of a scan of {@code snapshot} into write order. It reads only the snapshot's
     * manifest list, not its manifests: for a scan that already planned its (filtered) files.
     */
    public static <T extends FileScanTask> List<T> sort(Table table, Snapshot snapshot, Collection<T> tasks) {
        Comparator<ContentFile<?>> order = comparator(table, snapshot);
        List<T> sorted = new ArrayList<>(tasks);
        sorted.sort((a, b) -> order.compare(a.file(), b.file()));
        return sorted;
    }

    /**
     * Data sequence number, then file sequence number (a rewrite's files keep the data sequence number
     * of the rows they rewrote), then the manifest's place in the snapshot's manifest list (a commit
     * lists the manifests it writes in the order it wrote them), then the file's place in its
     * manifest; the location last, so that the order is total.
     */
    private static Comparator<ContentFile<?>> comparator(Table table, Snapshot snapshot) {
        Map<String, Integer> manifestIndex = new HashMap<>();
        List<ManifestFile> manifests = snapshot.allManifests(table.io());
        for (int i = 0; i < manifests.size(); i++) {
            manifestIndex.put(manifests.get(i).path(), i);
        }
        return Comparator.<ContentFile<?>>comparingLong(WriteOrder::sequenceOf)
                .thenComparingLong(file -> file.fileSequenceNumber() == null ? 0 : file.fileSequenceNumber())
                .thenComparingInt(file -> file.manifestLocation() == null ? Integer.MAX_VALUE
                        : manifestIndex.getOrDefault(file.manifestLocation(), Integer.MAX_VALUE))
                .thenComparingLong(file -> file.pos() == null ? Long.MAX_VALUE : file.pos())
                .thenComparing(ContentFile::location);
    }

    private static long sequenceOf(ContentFile<?> file) {
        return file.dataSequenceNumber() == null ? 0 : file.dataSequenceNumber();
    }
}
