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
}
