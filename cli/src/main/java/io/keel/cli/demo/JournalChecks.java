package io.keel.cli.demo;

import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import org.agrona.collections.Long2LongHashMap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What the demo reads back from the nodes' journals once they have stopped.
 */
final class JournalChecks
{
    /** Bytes of the header at the start of every segment file (the journal's format, version 1). */
    static final int SEGMENT_HEADER_LENGTH = 64;
    private static final String SEGMENT_PREFIX = "segment-";
    private static final String SEGMENT_SUFFIX = ".keel";

    private JournalChecks()
    {
    }

    /** Committed commands (groups) per command id of one client in a journal, and the journal's end. */
    record Groups(Long2LongHashMap perCommandId, long commands, long endPosition)
    {
    }

    static Groups groups(final Path journalDir, final long clientId)
    {
        final Long2LongHashMap counts = new Long2LongHashMap(0);
        final long[] commands = new long[1];
        try (Journal journal = Journal.open(new JournalContext().dir(journalDir).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.isEndOfGroup())
                {
                    commands[0]++;
                    if (frame.clientId() == clientId)
                    {
                        counts.put(frame.commandId(), counts.get(frame.commandId()) + 1);
                    }
                }
            }, 4096) > 0)
            {
                // every frame
            }
            return new Groups(counts, commands[0], journal.committedPosition());
        }
    }

    static long committedPosition(final Path journalDir)
    {
        try (Journal journal = Journal.open(new JournalContext().dir(journalDir).readOnly(true)))
        {
            return journal.committedPosition();
        }
    }

    /**
     * Compare two journals byte for byte up to a log position: the same segment files, each equal from its header
     * to the position.
     *
     * @return null when equal, else what differs.
     */
    static String compareUpTo(final Path journalA, final Path journalB, final long position) throws IOException
    {
        final List<Path> a = segments(journalA);
        final List<Path> b = segments(journalB);
        final List<Path> coveredA = covering(a, position);
        final List<Path> coveredB = covering(b, position);
        final List<String> namesA = coveredA.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
        final List<String> namesB = coveredB.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
        if (!namesA.equals(namesB))
        {
            return "segment files differ: " + namesA + " vs " + namesB;
        }
        for (int i = 0; i < coveredA.size(); i++)
        {
            final long base = basePosition(coveredA.get(i));
            final byte[] bytesA = Files.readAllBytes(coveredA.get(i));
            final byte[] bytesB = Files.readAllBytes(coveredB.get(i));
            final long limit = Math.min(SEGMENT_HEADER_LENGTH + (position - base), Math.min(bytesA.length, bytesB.length));
            final long expected = Math.min(SEGMENT_HEADER_LENGTH + (position - base),
                Math.max(bytesA.length, bytesB.length));
            if (limit < expected)
            {
                return namesA.get(i) + " is shorter in one journal (" + bytesA.length + " vs " + bytesB.length +
                    " bytes)";
            }
            final int mismatch = Arrays.mismatch(bytesA, 0, (int)limit, bytesB, 0, (int)limit);
            if (mismatch >= 0)
            {
                return namesA.get(i) + " differs at file offset " + mismatch;
            }
        }
        return null;
    }

    static int segmentCount(final Path journalDir) throws IOException
    {
        return segments(journalDir).size();
    }

    private static List<Path> covering(final List<Path> segments, final long position)
    {
        final List<Path> covered = new ArrayList<>();
        for (final Path segment : segments)
        {
            if (basePosition(segment) < position || covered.isEmpty())
            {
                covered.add(segment);
            }
        }
        return covered;
    }

    private static long basePosition(final Path segment)
    {
        final String name = segment.getFileName().toString();
        return Long.parseLong(name.substring(SEGMENT_PREFIX.length(), name.length() - SEGMENT_SUFFIX.length()));
    }

    private static List<Path> segments(final Path journalDir) throws IOException
    {
        try (Stream<Path> files = Files.list(journalDir))
        {
            return files.filter(p ->
            {
                final String name = p.getFileName().toString();
                return name.startsWith(SEGMENT_PREFIX) && name.endsWith(SEGMENT_SUFFIX);
            }).sorted().collect(Collectors.toList());
        }
    }
}
