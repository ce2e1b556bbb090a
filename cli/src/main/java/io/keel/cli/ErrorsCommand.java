package io.keel.cli;

import io.keel.gateway.ops.CountersFile;
import io.keel.gateway.ops.ErrorFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code keel errors DIR}: a node's distinct error log, like Aeron's ErrorStat.
 */
@Command(
    name = "errors",
    mixinStandardHelpOptions = true,
    description = {
        "Print a node's distinct errors (DIR/keel-errors.dat): each once, with how often and when it was first and " +
            "last seen; works while the node runs and after it died. Errors of runs before the last start are in " +
            "DIR/keel-errors-<start ms>.txt.",
        "Exit codes: 0 no errors, 1 errors listed, 2 no error file in DIR."
    })
public final class ErrorsCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "DIR", description = "node directory (--dir of keel node)")
    Path dir;

    @Override
    public Integer call()
    {
        final ErrorFile file;
        try
        {
            file = ErrorFile.openReadOnly(dir);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("keel errors: " + ex.getMessage());
            return 2;
        }
        try (file)
        {
            String status = "keel node " + file.file().nodeId() + " pid " + file.file().pid();
            try (CountersFile counters = CountersFile.openReadOnly(dir))
            {
                status = StatCommand.status(counters.file(), System.currentTimeMillis());
            }
            catch (final IllegalArgumentException ignore)
            {
                // no counters file: the header of the error file says enough
            }
            final List<ErrorFile.Entry> entries = file.entries();
            System.out.println(status);
            System.out.println(entries.size() + " distinct error(s)");
            System.out.print(ErrorFile.format(entries));
            return entries.isEmpty() ? 0 : 1;
        }
    }
}
