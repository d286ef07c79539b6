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
            Integer index = pending.peekFirst();
            if (index != null && !fasterElsewhere(worker)) {
                pending.pollFirst();
                Lease lease = new Lease(index, order.get(index), worker, ++serials);
                long now = clock.getAsLong();
                held.put(index, new Held(lease, now, now + timeoutNanos));
                lastGrants.put(worker, new Grant(now, lease.unit().rows(), false));
                return Optional.of(lease);
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
     * Whether every unit left would finish sooner with the workers holding leases than with
     * {@code worker}, which is free now: the units are handed out in order, each to whoever would
     * finish it first; true when none comes to {@code worker}. False while paces are unknown.
     */
    private boolean fasterElsewhere(String worker) {
        Double own = nanosPerRow.get(worker);
        if (own == null) {
            return false;
        }
        long now = clock.getAsLong();
        List<double[]> others = new java.util.ArrayList<>(); // {free at, nanos per row}
        for (Held h : held.values()) {
            Double pace = nanosPerRow.get(h.lease().worker());
            if (pace != null && !h.lease().worker().equals(worker)) {
                others.add(new double[] {Math.max(now, h.grantedNanos() + pace * h.lease().unit().rows()), pace});
            }
        }
        if (others.isEmpty()) {
            return false;
        }
        for (int index : pending) {
            long rows = order.get(index).rows();
            double[] first = null;
            for (double[] other : others) {
                if (first == null || other[0] + other[1] * rows < first[0] + first[1] * rows) {
                    first = other;
                }
            }
            if (now + own * rows <= first[0] + first[1] * rows) {
                return false;
            }
            first[0] += first[1] * rows;
        }
        return true;
    }

    /** Whether every unit of the epoch was delivered. */
    synchronized boolean finished() {
        return delivered == order.size();
    }

    /** The worker made progress on its lease: its deadline moves on. False when the lease is no longer its own (it ran out). */
    synchronized boolean renew(Lease lease) {
        expire();
        Held current = held.get(lease.index());
        if (current == null || current.lease().serial() != lease.serial()) {
            return false;
        }
        held.put(lease.index(), new Held(lease, current.grantedNanos(), clock.getAsLong() + timeoutNanos));
        return true;
    }

    /** All the unit's rows went to the lease's worker. False when the lease had run out before (another worker has the unit). */
    synchronized boolean delivered(Lease lease) {
        Held current = held.get(lease.index());
        if (current == null || current.lease().serial() != lease.serial()) {
            return false;
        }
        held.remove(lease.index());
        delivered++;
        deliveredRowsByWorker.merge(lease.worker(), lease.unit().rows(), Long::sum);
        lastGrants.computeIfPresent(lease.worker(), (w, grant) -> new Grant(grant.grantedNanos(), grant.rows(), true));
        notifyAll();
        return true;
    }

    /** The lease's worker is gone (its stream broke): the unit goes to the next worker that asks. */
    synchronized void release(Lease lease) {
        Held current = held.get(lease.index());
        if (current != null && current.lease().serial() == lease.serial()) {
            held.remove(lease.index());
            pending.addFirst(lease.index());
                onRelease.run();
            notifyAll();
        }
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
