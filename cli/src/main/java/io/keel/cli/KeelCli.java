package io.keel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code keel} command: entry point of the executable jar that {@code ./keel} runs.
 */
@Command(
    name = "keel",
    mixinStandardHelpOptions = true,
    version = "keel 0.1.0",
    description = "Keel: a replicated single-writer command engine.",
    subcommands = {
        DemoCommand.class,
        JournalCommand.class,
        NodeCommand.class,
        DriverCommand.class,
        WitnessCommand.class,
        BankCommand.class,
        BenchCommand.class,
        StatCommand.class,
        ErrorsCommand.class,
        HealthCommand.class,
        CommandLine.HelpCommand.class
    })
public final class KeelCli implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand");
    }

    /**
     * Runs the command line and exits with its exit code.
     *
     * @param args command-line arguments.
     */
    public static void main(final String[] args)
    {
        // belt and braces with the excluded chronicle-analytics jar: Chronicle must never phone home
        System.setProperty("chronicle.analytics.disable", "true");
        System.setProperty("chronicle.disk.monitor.disable", "true");
        // Chronicle's start-up chatter is not what an operator needs to read
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.net.openhft", "warn");
        System.exit(newCommandLine().execute(args));
    }

    /**
     * @return the command line, for running commands in-process (tests, tools).
     */
    public static CommandLine newCommandLine()
    {
        return new CommandLine(new KeelCli());
    }
}
