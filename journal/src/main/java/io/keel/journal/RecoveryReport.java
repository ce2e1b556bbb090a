package io.keel.journal;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link Journal#open(JournalContext)} found and did: the log's extent and any torn tail it cut.
 */
public final class RecoveryReport
{
    private final int segmentCount;
    private final long frameCount;
    private final long startPosition;
    private final long endPosition;
    private final long tornBytes;
    private final Path tornFile;
    private final long tornFileOffset;
    private final String tornReason;
    private final List<Path> sideFiles;
    private final long completedTruncation;

    RecoveryReport(
        final int segmentCount,
        final long frameCount,
        final long startPosition,
        final long endPosition,
        final long tornBytes,
        final Path tornFile,
        final long tornFileOffset,
        final String tornReason,
        final List<Path> sideFiles,
        final long completedTruncation)
    {
        this.segmentCount = segmentCount;
        this.frameCount = frameCount;
        this.startPosition = startPosition;
        this.endPosition = endPosition;
        this.tornBytes = tornBytes;
        this.tornFile = tornFile;
        this.tornFileOffset = tornFileOffset;
        this.tornReason = tornReason;
        this.sideFiles = List.copyOf(sideFiles);
        this.completedTruncation = completedTruncation;
    }

    /** @return segment files in the log after recovery. */
    public int segmentCount()
    {
        return segmentCount;
    }

    /** @return valid frames in the log after recovery. */
    public long frameCount()
    {
        return frameCount;
    }

    /** @return position of the first frame. */
    public long startPosition()
    {
        return startPosition;
    }

    /** @return position after the last whole group: where the next append goes. */
    public long endPosition()
    {
        return endPosition;
    }

    /** @return true when a torn tail was found (and, unless read-only, cut). */
    public boolean hadTornTail()
    {
        return tornBytes > 0;
    }

    /** @return bytes of torn tail found beyond {@link #endPosition()}. */
    public long tornBytes()
    {
        return tornBytes;
    }

    /** @return segment file where the torn tail starts, or null. */
    public Path tornFile()
    {
        return tornFile;
    }

    /** @return offset in {@link #tornFile()} where the torn tail starts, or -1. */
    public long tornFileOffset()
    {
        return tornFileOffset;
    }

    /** @return why the tail was judged torn (the first bad frame), or null. */
    public String tornReason()
    {
        return tornReason;
    }

    /** @return files holding copies of the bytes cut from the tail. */
    public List<Path> sideFiles()
    {
        return sideFiles;
    }

    /** @return position of an interrupted truncation that recovery completed, or -1. */
    public long completedTruncation()
    {
        return completedTruncation;
    }

    @Override
    public String toString()
    {
        return "RecoveryReport{segments=" + segmentCount + ", frames=" + frameCount + ", start=" + startPosition +
            ", end=" + endPosition + (tornBytes > 0 ? ", tornBytes=" + tornBytes + " at " + tornFile + ":" +
            tornFileOffset + " (" + tornReason + "), sideFiles=" + sideFiles : "") +
            (completedTruncation >= 0 ? ", completedTruncationTo=" + completedTruncation : "") + '}';
    }
}
