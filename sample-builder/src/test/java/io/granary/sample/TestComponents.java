package io.granary.sample;

import io.granary.sample.component.Argument;
import io.granary.sample.component.CheckContext;
import io.granary.sample.component.Column;
import io.granary.sample.component.Component;
import io.granary.sample.component.NodeArgs;
import io.granary.sample.component.NodeResult;
import io.granary.sample.component.RunContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Components for the executor's tests, found like any other through META-INF/services (test resources). */
public final class TestComponents {

    private TestComponents() {}

    /** Failures still to come, by the key a node names: each attempt takes one and fails. */
    static final Map<String, AtomicInteger> FAILURES = new ConcurrentHashMap<>();
    /** Latches a {@code blocking} node waits on, by key. */
    static final Map<String, CountDownLatch> GATES = new ConcurrentHashMap<>();
    /** Counted down when a {@code blocking} node has started, by key. */
    static final Map<String, CountDownLatch> STARTED = new ConcurrentHashMap<>();

    private abstract static class PassThrough implements Component {
        @Override
        public String version() {
            return "1";
        }

        @Override
        public List<Argument> arguments() {
            return List.of(Argument.required("input", "rows"), Argument.required("key", "names the test's state"));
        }

        @Override
        public boolean rowLocal(NodeArgs args) {
            return true;
        }

        @Override
        public List<Column> check(NodeArgs args, CheckContext context) {
            return args.table("input").columns();
        }
    }

    /** Fails as often as FAILURES says for its key (a lost executor, say), then copies its input. */
    public static final class Flaky extends PassThrough {
        @Override
        public String name() {
            return "flaky";
        }

        @Override
        public String description() {
            return "fails as told, then copies its input";
        }

        @Override
        public NodeResult run(NodeArgs args, RunContext context) {
            AtomicInteger left = FAILURES.get(args.string("key"));
            if (left != null && left.getAndDecrement() > 0) {
                throw new IllegalStateException("injected failure");
            }
            return new NodeResult.Frame(context.read(args.table("input")), Map.of());
        }
    }

    /** Waits for its gate to open, then copies its input. */
    public static final class Blocking extends PassThrough {
        @Override
        public String name() {
            return "blocking";
        }

        @Override
        public String description() {
            return "waits to be let through, then copies its input";
        }

        @Override
        public NodeResult run(NodeArgs args, RunContext context) {
            String key = args.string("key");
            STARTED.computeIfAbsent(key, k -> new CountDownLatch(1)).countDown();
            try {
                if (!GATES.computeIfAbsent(key, k -> new CountDownLatch(1)).await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never let through");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return new NodeResult.Frame(context.read(args.table("input")), Map.of());
        }
    }
}
