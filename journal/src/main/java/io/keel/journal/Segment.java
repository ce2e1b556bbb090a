package io.keel.journal;

import java.nio.file.Path;

/**
 * One segment file of the log: immutable description. Its end is the next segment's base position, or the
 * journal's end for the last segment.
 */
final class Segment
{
    final Path file;
    final long basePosition;
    final long segmentSizeBytes;

    Segment(final Path file, final long basePosition, final long segmentSizeBytes)
    {
        this.file = file;
        this.basePosition = basePosition;
        this.segmentSizeBytes = segmentSizeBytes;
    }

    long fileOffset(final long position)
    {
        return SegmentHeader.LENGTH + (position - basePosition);
    }

    long positionAt(final long fileOffset)
    {
        return basePosition + (fileOffset - SegmentHeader.LENGTH);
    }

    /** Most log bytes this segment can hold. */
    long capacity()
    {
        return segmentSizeBytes - SegmentHeader.LENGTH;
    }

    @Override
    public String toString()
    {
        return file.toString();
    }

    /**
     * Index of the segment holding a position: the last one whose base is at or before it.
     *
     * @return index, or -1 when the position is before the first segment.
     */
    static int indexOf(final Segment[] segments, final long position)
    {
        int low = 0;
        int high = segments.length - 1;
        int found = -1;
        while (low <= high)
        {
            final int mid = (low + high) >>> 1;
            if (segments[mid].basePosition <= position)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found;
    }
}
