package io.keel.cli.demo;

import java.util.List;

/**
 * The module flags and Chronicle switches a JVM started by this one needs (Agrona, Aeron and Chronicle on JDK 17),
 * for commands outside this package that fork JVMs, such as the JMH runs of {@code keel bench codec}.
 */
public final class ChildJvmFlags
{
    private ChildJvmFlags()
    {
    }

    /**
     * @return the flags, one token per element, from {@code keel.jvm.flags}, the jar manifest and this JVM's own
     * arguments.
     */
    public static List<String> get()
    {
        return NodeProcess.jvmFlags();
    }
}
