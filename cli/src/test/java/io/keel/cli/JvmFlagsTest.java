package io.keel.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The JVM flags live in the parent pom twice: as command-line flags (Surefire, child JVMs in tests) and as the
 * jar manifest's Add-Exports/Add-Opens (what {@code ./keel} runs with). This test keeps the two in step.
 */
class JvmFlagsTest
{
    private static String property(final String pom, final String name)
    {
        final Matcher matcher = Pattern.compile("<" + Pattern.quote(name) + ">([^<]*)</" + Pattern.quote(name) + ">")
            .matcher(pom);
        assertTrue(matcher.find(), "property " + name + " in the parent pom");
        return matcher.group(1).trim();
    }

    private static Set<String> flagged(final String flags, final String option)
    {
        final Set<String> packages = new TreeSet<>();
        final Matcher matcher = Pattern.compile(Pattern.quote(option) + "\\s+(\\S+)=ALL-UNNAMED").matcher(flags);
        while (matcher.find())
        {
            packages.add(matcher.group(1));
        }
        return packages;
    }

    @Test
    void manifestFlagsMatchTheCommandLineFlags() throws IOException
    {
        final String pom = Files.readString(Path.of("..", "pom.xml"));
        final String flags = property(pom, "keel.jvm.flags");
        final Set<String> exports = new TreeSet<>(Arrays.asList(property(pom, "keel.manifest.exports").split("\\s+")));
        final Set<String> opens = new TreeSet<>(Arrays.asList(property(pom, "keel.manifest.opens").split("\\s+")));
        assertEquals(flagged(flags, "--add-exports"), exports, "Add-Exports vs --add-exports");
        assertEquals(flagged(flags, "--add-opens"), opens, "Add-Opens vs --add-opens");
        assertEquals(flags, System.getProperty("keel.jvm.flags"), "Surefire passes the same flags to tests");
    }
}
