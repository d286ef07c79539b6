package io.granary.cache.stream;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Who reads which unit of one epoch in dynamic mode. A worker leases the next unit when it is
 * ready for more, so fast workers take more units and a straggler holds at most the one it reads.
 * A unit counts as delivered when all its rows went to the worker holding its lease; a lease is
 * given back at once when its worker's stream breaks, or taken back when the worker made no
 * progress for the lease timeout, and the unit goes to the next worker that asks. Every unit is
 * thus delivered exactly once per epoch.
 *
 * <p>At the epoch's tail a slow worker waits rather than take a unit a faster one would finish
 * sooner: each worker's pace is the time from one lease to its next ask, and a unit goes to the
 * asking worker unless, handing the units left out by earliest finish, every one of them would
 * finish sooner with a worker that holds a lease now. It only ever waits on workers holding a live
 * lease, which deliver (and ask again) or lose it to the timeout, so every unit is still delivered.
 *
 * <p>A worker reading over one exchange (DoExchange) leases its next unit ahead, while it still
 * reads the current one ({@link #ahead}), and says when it is done with a unit
 * ({@link #acknowledged}): there a unit counts as delivered once the worker has read it, so a
 * worker that stops early gives back the unit it leased ahead, and its pace is the time between
 * its acknowledgements.
 * Thread-safe.
 */
final class LeaseBook {

    /** Unit {@code index} of the epoch's order, leased to {@code worker}; {@code serial} tells this lease from later ones of the unit. */
    record Lease(int index, StreamUnit unit, String worker, long serial) {}

    private record Held(Lease lease, long grantedNanos, long deadlineNanos) {}

    /** A worker's last lease: when it was granted and its rows; delivered once all went to the worker. */
    private record Grant(long grantedNanos, long rows, boolean delivered) {}

    private final List<StreamUnit> order;
    private final long timeoutNanos;
    private final LongSupplier clock;
    private final Runnable onRelease;
    private final Deque<Integer> pending = new ArrayDeque<>();
    private final Map<Integer, Held> held = new HashMap<>();
    private final Map<String, Long> deliveredRowsByWorker = new HashMap<>();
    private final Map<String, Grant> lastGrants = new HashMap<>();
    private final Map<String, Double> nanosPerRow = new HashMap<>();
    /** When each exchange worker last said it was done with a unit: the start of the unit it reads next. */
    private final Map<String, Long> lastAcknowledged = new HashMap<>();
    private int delivered;
    private long serials;

    /** @param onRelease called for every unit given back or taken back */
    LeaseBook(List<StreamUnit> order, long timeoutNanos, LongSupplier clock, Runnable onRelease) {
        this.order = List.copyOf(order);
        this.onRelease = onRelease;
        this.timeoutNanos = timeoutNanos;
        this.clock = clock;
        for (int i = 0; i < order.size(); i++) {
            pending.add(i);
        }
    }

    /**
     * The next unit for {@code worker}, waiting up to {@code waitMillis} while every unit left is
     * leased to others (one of them may come back); empty when the epoch is done or the wait ran out.
     * A worker asking again gives back what it still held (its earlier stream is gone).
     */
    synchronized Optional<Lease> next(String worker, long waitMillis) throws InterruptedException {
        held.values().removeIf(h -> {
            if (h.lease().worker().equals(worker)) {
                pending.addFirst(h.lease().index());
                onRelease.run();
                return true;
            }
            return false;
        });
        Grant last = lastGrants.remove(worker);
        if (last != null && last.delivered() && last.rows() > 0) {
            nanosPerRow.put(worker, (double) (clock.getAsLong() - last.grantedNanos()) / last.rows());
        }
        long until = System.nanoTime() + waitMillis * 1_000_000;
        while (true) {
            expire();
            Optional<Lease> lease = grant(worker);
            if (lease.isPresent()) {
                lastGrants.put(worker, new Grant(held.get(lease.get().index()).grantedNanos(), lease.get().unit().rows(), false));
                return lease;
            }
            long left = until - System.nanoTime();
            if (finished() || left <= 0) {
                return Optional.empty();
            }
            // wake for a unit coming back (released, or its lease running out) or the epoch ending
            wait(Math.max(1, Math.min(left / 1_000_000, Math.max(1, timeoutNanos / 4_000_000))));
        }
    }

    /**
     * One more unit for {@code worker}, which still holds the one it reads (over an exchange): at
     * once, without giving back what it holds; empty when no unit is pending, or when the workers
     * holding leases would finish every unit left sooner than it (see the class comment).
     */
    synchronized Optional<Lease> ahead(String worker) {
        expire();
        return grant(worker);
    }

    private Optional<Lease> grant(String worker) {
        Integer index = pending.peekFirst();
        if (index == null || fasterElsewhere(worker)) {
            return Optional.empty();
        }
        pending.pollFirst();
        Lease lease = new Lease(index, order.get(index), worker, ++serials);
        long now = clock.getAsLong();
        held.put(index, new Held(lease, now, now + timeoutNanos));
        return Optional.of(lease);
    }

    /**
     * Whether every unit left would finish sooner with the other workers holding leases than with
     * {@code worker} once it is free: the units are handed out in order, each to whoever would
     * finish it first; true when none comes to {@code worker}. False while paces are unknown.
     */
    private boolean fasterElsewhere(String worker) {
        Double own = nanosPerRow.get(worker);
        if (own == null) {
            return false;
        }
        long now = clock.getAsLong();
        Map<String, double[]> others = new HashMap<>(); // worker -> {free at, nanos per row}
        for (Held h : held.values()) {
            String other = h.lease().worker();
            if (!other.equals(worker) && nanosPerRow.containsKey(other) && !others.containsKey(other)) {
                others.put(other, new double[] {freeAt(other, now), nanosPerRow.get(other)});
            }
        }
        if (others.isEmpty()) {
            return false;
        }
        double ownFree = freeAt(worker, now);
        for (int index : pending) {
            long rows = order.get(index).rows();
            double[] first = null;
            for (double[] other : others.values()) {
                if (first == null || other[0] + other[1] * rows < first[0] + first[1] * rows) {
                    first = other;
                }
            }
            if (ownFree + own * rows <= first[0] + first[1] * rows) {
                return false;
            }
            first[0] += first[1] * rows;
        }
        return true;
    }

    /** When {@code worker} (whose pace is known) will be done with the units it holds, by its pace; now if it holds none. */
    private double freeAt(String worker, long now) {
        long start = Long.MAX_VALUE;
        long rows = 0;
        for (Held h : held.values()) {
            if (h.lease().worker().equals(worker)) {
                start = Math.min(start, h.grantedNanos());
                rows += h.lease().unit().rows();
            }
        }
        if (rows == 0) {
            return now;
        }
        Long acknowledged = lastAcknowledged.get(worker);
        if (acknowledged != null) {
            start = Math.max(start, acknowledged);
        }
        return Math.max(now, start + nanosPerRow.get(worker) * rows);
    }

    /** Whether every unit of the epoch was delivered. */
    synchronized boolean finished() {
        return delivered == order.size();
    }

    /** The lease's entry while it is still its worker's; null once it ran out, was given back or delivered (its unit may be another's now). */
    private Held current(Lease lease) {
        Held current = held.get(lease.index());
        return current != null && current.lease().serial() == lease.serial() ? current : null;
    }

    /** The worker made progress on its lease: its deadline moves on. False when the lease is no longer its own (it ran out). */
    synchronized boolean renew(Lease lease) {
        expire();
        Held current = current(lease);
        if (current == null) {
            return false;
        }
        held.put(lease.index(), new Held(lease, current.grantedNanos(), clock.getAsLong() + timeoutNanos));
        return true;
    }

    /** Whether the lease is still its worker's (it has not run out), without renewing it. */
    synchronized boolean holds(Lease lease) {
        expire();
        return current(lease) != null;
    }

    /** All the unit's rows went to the lease's worker. False when the lease had run out before (another worker has the unit). */
    synchronized boolean delivered(Lease lease) {
        if (current(lease) == null) {
            return false;
        }
        held.remove(lease.index());
        delivered++;
        deliveredRowsByWorker.merge(lease.worker(), lease.unit().rows(), Long::sum);
        lastGrants.computeIfPresent(lease.worker(), (w, grant) -> new Grant(grant.grantedNanos(), grant.rows(), true));
        notifyAll();
        return true;
    }

    /**
     * The lease's worker read all the unit's rows and said so (over an exchange): the unit is
     * delivered, and the worker's pace is the time since it began reading it (its lease, or its last
     * acknowledgement if that came later) per row. False when the lease had run out before.
     */
    synchronized boolean acknowledged(Lease lease) {
        Held current = current(lease);
        if (!delivered(lease)) {
            return false;
        }
        long now = clock.getAsLong();
        long start = Math.max(current.grantedNanos(), lastAcknowledged.getOrDefault(lease.worker(), Long.MIN_VALUE));
        if (lease.unit().rows() > 0) {
            nanosPerRow.put(lease.worker(), (double) (now - start) / lease.unit().rows());
        }
        lastAcknowledged.put(lease.worker(), now);
        lastGrants.remove(lease.worker());
        return true;
    }

    /** The lease's worker is gone (its stream broke): the unit goes to the next worker that asks. */
    synchronized void release(Lease lease) {
        if (current(lease) != null) {
            held.remove(lease.index());
            pending.addFirst(lease.index());
            onRelease.run();
            notifyAll();
        }
    }


    /** The worker's pace: nanoseconds per row of its last unit; empty until it finished one. */
    synchronized java.util.OptionalDouble nanosPerRow(String worker) {
        Double pace = nanosPerRow.get(worker);
        return pace == null ? java.util.OptionalDouble.empty() : java.util.OptionalDouble.of(pace);
    }

    synchronized Map<String, Long> deliveredRowsByWorker() {
        return Map.copyOf(deliveredRowsByWorker);
    }

    synchronized int units() {
        return order.size();
    }

    private void expire() {
        long now = clock.getAsLong();
        for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.deadlineNanos() - now < 0) {
                it.remove();
                pending.addFirst(h.lease().index());
                onRelease.run();
                notifyAll();
            }
        }
    }
}
