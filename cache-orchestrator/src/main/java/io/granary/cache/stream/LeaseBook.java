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
 * thus delivered exactly once per epoch. Thread-safe.
 */
final class LeaseBook {

    /** Unit {@code index} of the epoch's order, leased to {@code worker}; {@code serial} tells this lease from later ones of the unit. */
    record Lease(int index, StreamUnit unit, String worker, long serial) {}

    private record Held(Lease lease, long deadlineNanos) {}

    private final List<StreamUnit> order;
    private final long timeoutNanos;
    private final LongSupplier clock;
    private final Runnable onRelease;
    private final Deque<Integer> pending = new ArrayDeque<>();
    private final Map<Integer, Held> held = new HashMap<>();
    private final Map<String, Long> deliveredRowsByWorker = new HashMap<>();
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
        long until = System.nanoTime() + waitMillis * 1_000_000;
        while (true) {
            expire();
            Integer index = pending.pollFirst();
            if (index != null) {
                Lease lease = new Lease(index, order.get(index), worker, ++serials);
                held.put(index, new Held(lease, clock.getAsLong() + timeoutNanos));
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
        held.put(lease.index(), new Held(lease, clock.getAsLong() + timeoutNanos));
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
