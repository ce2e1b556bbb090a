package io.keel.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the journal in a directory given on the command line: the directory itself when it holds segment
 * files, else its {@code journal/} subdirectory (a node directory).
 */
final class JournalDirs
{
    private JournalDirs()
    {
    }

    static Path resolve(final Path dir)
    {
        if (hasSegments(dir))
        {
            return dir;
        }
        final Path nested = dir.resolve("journal");
        if (Files.isDirectory(nested))
        {
            return nested;
        }
        return dir;
    }

    private static boolean hasSegments(final Path dir)
    {
        if (!Files.isDirectory(dir))
        {
            return false;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "segment-*.keel"))
        {
            return stream.iterator().hasNext();
        }
        catch (final IOException ex)
        {
            return false;
        }
    }
}
