package io.keel.journal;

import org.agrona.BitUtil;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Configuration of a {@link Journal}. Defaults come from system properties; {@link #conclude()} validates
 * everything and fails naming the setting.
 */
public final class JournalContext
{
    /** Directory holding the segment files. */
    public static final String DIR_PROP = "keel.journal.dir";
    /** Most bytes one segment file holds, header included. */
    public static final String SEGMENT_SIZE_PROP = "keel.journal.segment.size";
    /** Largest frame (header + payload). */
    public static final String MAX_FRAME_LENGTH_PROP = "keel.journal.max.frame.length";
    /** Bytes staged in memory before a write to the file. */
    public static final String STAGING_BUFFER_PROP = "keel.journal.staging.buffer.size";
    /** Bytes a reader reads from the file at a time. */
    public static final String READ_BUFFER_PROP = "keel.journal.read.buffer.size";
    /** Bytes of the most recent log kept in memory for readers at the live end (0: none; else a power of two). */
    public static final String TAIL_CACHE_PROP = "keel.journal.tail.cache.size";
    /**
     * Bytes kept under {@code truncated/} (what truncations and resets set aside): the oldest files go first once
     * more is kept; the latest cut is always kept whole. -1: keep everything.
     */
    public static final String TRUNCATED_RETAIN_PROP = "keel.journal.truncated.retain.bytes";
    /** Durability policy: none, batch or always. */
    public static final String FSYNC_PROP = "keel.journal.fsync";
    /** Most frames in one atomic group. */
    public static final String MAX_FRAMES_PER_GROUP_PROP = "keel.journal.max.frames.per.group";

    public static final long SEGMENT_SIZE_DEFAULT = 64L * 1024 * 1024;
    public static final long SEGMENT_SIZE_MIN = 4096;
    public static final long SEGMENT_SIZE_MAX = 1L << 40;
    public static final int MAX_FRAME_LENGTH_DEFAULT = 1024 * 1024;
    public static final int STAGING_BUFFER_DEFAULT = 4 * 1024 * 1024;
    public static final int READ_BUFFER_DEFAULT = 2 * 1024 * 1024;
    public static final int MAX_FRAMES_PER_GROUP_DEFAULT = 1024;
    public static final long TRUNCATED_RETAIN_DEFAULT = 1L << 30;

    private Path dir = Paths.get(System.getProperty(DIR_PROP, "keel-journal"));
    private long segmentSizeBytes = Long.getLong(SEGMENT_SIZE_PROP, SEGMENT_SIZE_DEFAULT);
    private int maxFrameLengthBytes = Integer.getInteger(MAX_FRAME_LENGTH_PROP, MAX_FRAME_LENGTH_DEFAULT);
    private int stagingBufferBytes = Integer.getInteger(STAGING_BUFFER_PROP, STAGING_BUFFER_DEFAULT);
    private int readBufferBytes = Integer.getInteger(READ_BUFFER_PROP, READ_BUFFER_DEFAULT);
    private int maxFramesPerGroup = Integer.getInteger(MAX_FRAMES_PER_GROUP_PROP, MAX_FRAMES_PER_GROUP_DEFAULT);
    private int tailCacheBytes = Integer.getInteger(TAIL_CACHE_PROP, 0);
    private long truncatedRetainBytes = Long.getLong(TRUNCATED_RETAIN_PROP, TRUNCATED_RETAIN_DEFAULT);
    private EpochClock epochClock = SystemEpochClock.INSTANCE;
    private DurabilityPolicy durability = DurabilityPolicy.parse(System.getProperty(FSYNC_PROP, "batch"));
    private boolean readOnly;
    private boolean concluded;

    /**
     * Validate the settings and derive the rest. Called by {@link Journal#open(JournalContext)}.
     *
     * @return this.
     * @throws IllegalArgumentException naming the first bad setting.
     */
    public JournalContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (null == dir)
        {
            throw new IllegalArgumentException(DIR_PROP + " (dir) must be set");
        }
        if (segmentSizeBytes < SEGMENT_SIZE_MIN || segmentSizeBytes > SEGMENT_SIZE_MAX)
        {
            throw new IllegalArgumentException(SEGMENT_SIZE_PROP + " (segmentSizeBytes) = " + segmentSizeBytes +
                " out of range [" + SEGMENT_SIZE_MIN + ", " + SEGMENT_SIZE_MAX + "]");
        }
        if (maxFrameLengthBytes < FrameDescriptor.HEADER_LENGTH ||
            BitUtil.align(maxFrameLengthBytes, FrameDescriptor.FRAME_ALIGNMENT) > segmentSizeBytes - SegmentHeader.LENGTH)
        {
            throw new IllegalArgumentException(MAX_FRAME_LENGTH_PROP + " (maxFrameLengthBytes) = " +
                maxFrameLengthBytes + " must be at least the frame header (" + FrameDescriptor.HEADER_LENGTH +
                ") and fit in one segment after its header (segmentSizeBytes = " + segmentSizeBytes + ")");
        }
        final int alignedMaxFrame = BitUtil.align(maxFrameLengthBytes, FrameDescriptor.FRAME_ALIGNMENT);
        if (stagingBufferBytes < alignedMaxFrame)
        {
            throw new IllegalArgumentException(STAGING_BUFFER_PROP + " (stagingBufferBytes) = " +
                stagingBufferBytes + " must hold at least one maximum frame (" + alignedMaxFrame + ")");
        }
        if (readBufferBytes < alignedMaxFrame)
        {
            throw new IllegalArgumentException(READ_BUFFER_PROP + " (readBufferBytes) = " + readBufferBytes +
                " must hold at least one maximum frame (" + alignedMaxFrame + ")");
        }
        if (truncatedRetainBytes < -1)
        {
            throw new IllegalArgumentException(TRUNCATED_RETAIN_PROP + " (truncatedRetainBytes) = " +
                truncatedRetainBytes + ": must be -1 (keep everything) or at least 0");
        }
        if (null == epochClock)
        {
            throw new IllegalArgumentException("epochClock must be set");
        }
        if (tailCacheBytes < 0 || (tailCacheBytes > 0 && !BitUtil.isPowerOfTwo(tailCacheBytes)))
        {
            throw new IllegalArgumentException(TAIL_CACHE_PROP + " (tailCacheBytes) = " + tailCacheBytes +
                " must be 0 (none) or a power of two");
        }
        if (maxFramesPerGroup < 1)
        {
            throw new IllegalArgumentException(MAX_FRAMES_PER_GROUP_PROP + " (maxFramesPerGroup) = " +
                maxFramesPerGroup + " must be at least 1");
        }
        if (null == durability)
        {
            throw new IllegalArgumentException(FSYNC_PROP + " (durability) must be set");
        }
        concluded = true;
        return this;
    }

    /** @return directory holding the segment files. */
    public Path dir()
    {
        return dir;
    }

    /**
     * @param dir directory holding the segment files; created when missing (unless read-only).
     * @return this.
     */
    public JournalContext dir(final Path dir)
    {
        this.dir = dir;
        return this;
    }

    /** @return most bytes one segment file holds, header included. */
    public long segmentSizeBytes()
    {
        return segmentSizeBytes;
    }

    /**
     * @param segmentSizeBytes most bytes one segment file holds, header included (new segments only; existing
     *                         segments keep the size in their header).
     * @return this.
     */
    public JournalContext segmentSizeBytes(final long segmentSizeBytes)
    {
        this.segmentSizeBytes = segmentSizeBytes;
        return this;
    }

    /** @return largest frame (header + payload) accepted. */
    public int maxFrameLengthBytes()
    {
        return maxFrameLengthBytes;
    }

    /**
     * @param maxFrameLengthBytes largest frame (header + payload) accepted.
     * @return this.
     */
    public JournalContext maxFrameLengthBytes(final int maxFrameLengthBytes)
    {
        this.maxFrameLengthBytes = maxFrameLengthBytes;
        return this;
    }

    /** @return bytes staged in memory before a write to the file. */
    public int stagingBufferBytes()
    {
        return stagingBufferBytes;
    }

    /**
     * @param stagingBufferBytes bytes staged in memory before a write to the file.
     * @return this.
     */
    public JournalContext stagingBufferBytes(final int stagingBufferBytes)
    {
        this.stagingBufferBytes = stagingBufferBytes;
        return this;
    }

    /** @return bytes a reader reads from the file at a time. */
    public int readBufferBytes()
    {
        return readBufferBytes;
    }

    /**
     * @param readBufferBytes bytes a reader reads from the file at a time.
     * @return this.
     */
    public JournalContext readBufferBytes(final int readBufferBytes)
    {
        this.readBufferBytes = readBufferBytes;
        return this;
    }

    /** @return bytes of the most recent log kept in memory for readers at the live end; 0: none. */
    public int tailCacheBytes()
    {
        return tailCacheBytes;
    }

    /**
     * Keep the most recently written bytes in memory, so that readers at the live end (replication to a standby,
     * a standby applying what it appended) copy them instead of reading the file back. Costs one copy per write.
     *
     * @param tailCacheBytes 0 (none, the default) or a power of two.
     * @return this.
     */
    public JournalContext tailCacheBytes(final int tailCacheBytes)
    {
        this.tailCacheBytes = tailCacheBytes;
        return this;
    }

    /** @return bytes kept under {@code truncated/}; -1: everything. */
    public long truncatedRetainBytes()
    {
        return truncatedRetainBytes;
    }

    /**
     * Bound what truncations and resets keep under {@code truncated/}: after each, the oldest files there are deleted
     * while the folder holds more than this. The files of the latest cut are always kept, whatever their size (a
     * divergent tail may hold commands an operator wants to see). Default 1 GiB.
     *
     * @param truncatedRetainBytes bytes, at least 0; -1 keeps everything.
     * @return this.
     */
    public JournalContext truncatedRetainBytes(final long truncatedRetainBytes)
    {
        this.truncatedRetainBytes = truncatedRetainBytes;
        return this;
    }

    /** @return the wall clock segment headers and {@code truncated/} are stamped with. */
    public EpochClock epochClock()
    {
        return epochClock;
    }

    /**
     * The wall clock (ms) for when truncations and resets start and files are set aside under {@code truncated/},
     * and for the creation time of the segment a reset starts (a segment opened by a roll takes its first event's
     * timestamp). A cut's files are stamped no earlier than the cut's start, so the latest cut is kept whole even if
     * the clock steps back during it; after a step back, older cuts may be pruned out of order until the clock
     * passes them.
     *
     * @param epochClock the clock; default the system's.
     * @return this.
     */
    public JournalContext epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
        return this;
    }

    /** @return most frames in one atomic group. */
    public int maxFramesPerGroup()
    {
        return maxFramesPerGroup;
    }

    /**
     * @param maxFramesPerGroup most frames (events) in one atomic group (command).
     * @return this.
     */
    public JournalContext maxFramesPerGroup(final int maxFramesPerGroup)
    {
        this.maxFramesPerGroup = maxFramesPerGroup;
        return this;
    }

    /** @return when appended frames count as durable. */
    public DurabilityPolicy durability()
    {
        return durability;
    }

    /**
     * @param durability when appended frames count as durable.
     * @return this.
     */
    public JournalContext durability(final DurabilityPolicy durability)
    {
        this.durability = durability;
        return this;
    }

    /** @return true when the journal is opened for reading only (tools): nothing is changed on disk. */
    public boolean readOnly()
    {
        return readOnly;
    }

    /**
     * @param readOnly open for reading only: no lock, no repair of a torn tail, no appends.
     * @return this.
     */
    public JournalContext readOnly(final boolean readOnly)
    {
        this.readOnly = readOnly;
        return this;
    }
}
