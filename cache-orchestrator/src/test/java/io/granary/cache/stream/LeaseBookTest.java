package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LeaseBookTest {

    private static List<StreamUnit> units(int count) {
        List<StreamUnit> units = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            units.add(new StreamUnit("f" + i, 0, 10));
        }
        return units;
    }

    @Test
    void leasesRunOutGoBackAndEveryUnitIsDeliveredOnce() throws Exception {
        AtomicLong now = new AtomicLong();
        AtomicInteger released = new AtomicInteger();
        LeaseBook book = new LeaseBook(units(3), 1_000, now::get, released::incrementAndGet);
        LeaseBook.Lease a = book.next("a", 0).orElseThrow();
        LeaseBook.Lease b = book.next("b", 0).orElseThrow();
        assertThat(List.of(a.index(), b.index())).containsExactly(0, 1);

        now.addAndGet(600);
        assertThat(book.renew(a)).isTrue();
        now.addAndGet(600);
        // b made no progress for longer than the timeout: its unit goes to the next worker that asks, before unit 2
        LeaseBook.Lease c = book.next("c", 0).orElseThrow();
        assertThat(c.index()).isEqualTo(1);
        assertThat(released.get()).isEqualTo(1);
        assertThat(book.renew(b)).isFalse();
        assertThat(book.delivered(b)).isFalse();

        assertThat(book.delivered(a)).isTrue();
        assertThat(book.delivered(c)).isTrue();
        LeaseBook.Lease last = book.next("a", 0).orElseThrow();
        assertThat(last.index()).isEqualTo(2);
        // a's stream broke: the unit comes back at once
        book.release(last);
        assertThat(released.get()).isEqualTo(2);
        // a worker asking again gives back what it held
        LeaseBook.Lease again = book.next("b", 0).orElseThrow();
        LeaseBook.Lease retaken = book.next("b", 0).orElseThrow();
        assertThat(retaken.index()).isEqualTo(again.index()).isEqualTo(2);
        assertThat(book.renew(again)).isFalse();
        assertThat(book.finished()).isFalse();
        assertThat(book.delivered(retaken)).isTrue();
        assertThat(book.finished()).isTrue();
        assertThat(book.next("a", 0)).isEmpty();
        assertThat(book.deliveredRowsByWorker()).containsEntry("a", 10L).containsEntry("b", 10L).containsEntry("c", 10L);
    }

    @Test
    void aWorkerWithNothingLeftToLeaseWaitsForALeaseToComeBack() throws Exception {
        LeaseBook book = new LeaseBook(units(1), 60_000_000_000L, System::nanoTime, () -> { });
        LeaseBook.Lease held = book.next("a", 0).orElseThrow();
        Thread breaker = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            book.release(held);
        });
        breaker.start();
        long start = System.nanoTime();
        assertThat(book.next("b", 5_000)).map(LeaseBook.Lease::index).contains(0);
        assertThat((System.nanoTime() - start) / 1_000_000).isBetween(50L, 4_000L);
        breaker.join();
        assertThat(book.next("c", 50)).isEmpty();
    }

    @Test
    void atTheTailASlowWorkerLeavesTheLastUnitToAFasterOneButNotWhileItsLeaseIsGone() throws Exception {
        AtomicLong now = new AtomicLong();
        LeaseBook book = new LeaseBook(units(5), 1_000, now::get, () -> { });
        LeaseBook.Lease fast = book.next("fast", 0).orElseThrow();
        LeaseBook.Lease slow = book.next("slow", 0).orElseThrow();
        now.set(100);
        assertThat(book.delivered(fast)).isTrue();
        fast = book.next("fast", 0).orElseThrow(); // fast: 10 ns a row
        now.set(200);
        assertThat(book.delivered(fast)).isTrue();
        fast = book.next("fast", 0).orElseThrow();
        assertThat(fast.index()).isEqualTo(3);
        now.set(300);
        assertThat(book.delivered(slow)).isTrue();
        // slow (30 ns a row) would finish the last unit at 600; fast, whose lease ends about now, at 400
        assertThat(book.next("slow", 0)).isEmpty();
        assertThat(book.finished()).isFalse();
        assertThat(book.delivered(fast)).isTrue();
        LeaseBook.Lease last = book.next("fast", 0).orElseThrow();
        assertThat(last.index()).isEqualTo(4);

        // fast vanishes with it: once its lease runs out, slow takes the unit rather than wait for ever
        assertThat(book.next("slow", 0)).isEmpty();
        now.set(300 + 1_001);
        LeaseBook.Lease taken = book.next("slow", 0).orElseThrow();
        assertThat(taken.index()).isEqualTo(4);
        assertThat(book.delivered(taken)).isTrue();
        assertThat(book.finished()).isTrue();
        assertThat(book.deliveredRowsByWorker()).containsEntry("fast", 30L).containsEntry("slow", 20L);
    }

    @Test
    void withUnitsEnoughForBothASlowWorkerKeepsTakingThem() throws Exception {
        AtomicLong now = new AtomicLong();
        LeaseBook book = new LeaseBook(units(12), 1_000_000, now::get, () -> { });
        LeaseBook.Lease fast = book.next("fast", 0).orElseThrow();
        LeaseBook.Lease slow = book.next("slow", 0).orElseThrow();
        now.set(100);
        assertThat(book.delivered(fast)).isTrue();
        fast = book.next("fast", 0).orElseThrow();
        now.set(300);
        assertThat(book.delivered(slow)).isTrue();
        // 9 units left: fast could not finish them all before slow finishes one (at 600)
        assertThat(book.next("slow", 0)).isPresent();
    }

    @Test
    void anExchangeWorkerLeasesAheadIsPacedByItsAcknowledgementsAndGivesBackWhatItDidNotAcknowledge() throws Exception {
        AtomicLong now = new AtomicLong();
        AtomicInteger released = new AtomicInteger();
        LeaseBook book = new LeaseBook(units(4), 1_000_000, now::get, released::incrementAndGet);
        LeaseBook.Lease first = book.next("a", 0).orElseThrow();
        // leasing ahead keeps the unit being read
        LeaseBook.Lease second = book.ahead("a").orElseThrow();
        assertThat(second.index()).isEqualTo(1);
        assertThat(book.renew(first)).isTrue();
        now.set(100);
        assertThat(book.acknowledged(first)).isTrue();
        assertThat(book.acknowledged(first)).as("a unit is acknowledged once").isFalse();
        assertThat(book.nanosPerRow("a")).hasValue(10.0);
        now.set(250);
        assertThat(book.acknowledged(second)).isTrue();
        // read from the acknowledgement before (100), not from its lease (0)
        assertThat(book.nanosPerRow("a")).hasValue(15.0);
        LeaseBook.Lease third = book.ahead("a").orElseThrow();
        LeaseBook.Lease fourth = book.ahead("a").orElseThrow();

        // a stops: what it leased but did not acknowledge goes back, to whoever asks next
        book.release(third);
        book.release(fourth);
        assertThat(released.get()).isEqualTo(2);
        LeaseBook.Lease taken = book.next("b", 0).orElseThrow();
        LeaseBook.Lease aheadOfB = book.ahead("b").orElseThrow();
        assertThat(List.of(taken.index(), aheadOfB.index())).containsExactlyInAnyOrder(2, 3);
        assertThat(book.acknowledged(third)).isFalse();
        assertThat(book.acknowledged(taken)).isTrue();
        assertThat(book.acknowledged(aheadOfB)).isTrue();
        assertThat(book.finished()).isTrue();
        assertThat(book.deliveredRowsByWorker()).containsEntry("a", 20L).containsEntry("b", 20L);
    }

    @Test
    void atTheTailAnExchangeWorkerDoesNotLeaseAheadWhatAFasterWorkerFinishesSooner() throws Exception {
        AtomicLong now = new AtomicLong();
        LeaseBook book = new LeaseBook(units(6), 1_000_000, now::get, () -> { });
        LeaseBook.Lease fast = book.next("fast", 0).orElseThrow();
        LeaseBook.Lease slow = book.next("slow", 0).orElseThrow();
        now.set(100);
        assertThat(book.acknowledged(fast)).isTrue(); // 10 ns a row
        fast = book.next("fast", 0).orElseThrow();
        now.set(300);
        assertThat(book.acknowledged(slow)).isTrue(); // 30 ns a row
        // three units left: fast (free now) would finish them at 400, 500 and 600; slow one at 600, so it takes one
        slow = book.next("slow", 0).orElseThrow();
        assertThat(slow.index()).isEqualTo(3);
        // two left: slow, reading its unit until 600, would finish one at 900; fast at 400 and 500
        assertThat(book.ahead("slow")).isEmpty();
        assertThat(book.acknowledged(fast)).isTrue();
        assertThat(book.next("fast", 0)).map(LeaseBook.Lease::index).contains(4);
    }
}
