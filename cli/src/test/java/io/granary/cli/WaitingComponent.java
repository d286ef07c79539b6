package io.granary.cli;

import io.granary.sample.component.Argument;
import io.granary.sample.component.CheckContext;
import io.granary.sample.component.Column;
import io.granary.sample.component.Component;
import io.granary.sample.component.NodeArgs;
import io.granary.sample.component.NodeResult;
import io.granary.sample.component.RunContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A component for the kill test: copies its input once the file its argument names is gone (so a test can kill the run while it waits). */
public final class WaitingComponent implements Component {

    @Override
    public String name() {
        return "wait_for_file_gone";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "waits while a file exists, then copies its input";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(Argument.required("input", "rows"), Argument.required("file", "the file to wait for"));
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return true;
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        return args.table("input").columns();
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        Path file = Path.of(args.string("file"));
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (Files.exists(file) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return new NodeResult.Frame(context.read(args.table("input")), Map.of());
    }
}
