package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An append-only log of event frames in segment files, with one writer ({@link #appender()}), any number of
 * readers ({@link #reader(long)}), torn-tail recovery on open, crash-safe {@link #truncate(long)} and a
 * {@link StreamIndex}.
 * <p>
 * Recovery tells a torn tail (a partial or damaged frame with nothing valid after it: cut, with a copy of the cut
 * bytes kept under {@code torn/}) from corruption before valid data (refused with a
 * {@link JournalCorruptedException} naming file and offset). Only whole groups (commands) survive recovery.
 */
public final class Journal implements AutoCloseable
{
    static final String LOCK_FILE = "journal.lock";
    static final String TORN_DIR = "torn";
    static final String TRUNCATED_DIR = "truncated";
    static final String TRUNCATE_INTENT_FILE = "truncate.intent";
    static final String RESET_INTENT_FILE = "reset.intent";
    static final String TEMP_SUFFIX = ".tmp";
    private static final long INTENT_MAGIC = 0x544E49434E555254L; // "TRUNCINT"
    private static final long RESET_INTENT_MAGIC = 0x544E495445534552L; // "RESETINT"
    private static final int INTENT_LENGTH = 28;
    private static final int OLD_INTENT_LENGTH = 20; // a truncate intent written before the reset intent existed

    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    // how far a truncation or reset got (see failedCut)
    private static final int CUT_NOT_STARTED = 0;
    private static final int CUT_WRITING_INTENT = 1;
    private static final int CUT_CUTTING = 2;
    private static final int CUT_DONE = 3;

    private final JournalContext ctx;
    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Checksums checksums = new Checksums();
    private final ArrayList<Segment> segmentList = new ArrayList<>();
    private final StreamIndex streamIndex = new StreamIndex();
    private final RecoveryReport recoveryReport;
    private final JournalAppender appender;
    private final TailCache tailCache;
    private volatile Segment[] segments;
    private volatile long committedPosition;
    private volatile long durablePosition;
    // fsync statistics: written by the appending thread only (ordered writes), read from any thread
    private final java.util.concurrent.atomic.AtomicLong fsyncCount = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong fsyncNsTotal = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong fsyncNsMax = new java.util.concurrent.atomic.AtomicLong();
    private long lastEpoch;
    private long lastTimestampNs;
    private long currentCutStartMs; // the latest cut's start (wall clock): its set-aside files are stamped no earlier
    // the files the latest cut set aside under truncated/ in this process: kept by pruneTruncated whatever their
    // stamps say (a filesystem with coarse modification times rounds them down, below the cut's start). A set in the
    // order they were set aside: pruning asks it once per file listed there
    private final Set<Path> currentCutFiles = new LinkedHashSet<>();
    private boolean closed;

    private Journal(final JournalContext ctx)
    {
        this.ctx = ctx;
        this.dir = ctx.dir();
        FileChannel lockChannel = null;
        FileLock lock = null;
        try
        {
            prepareDirectory();
            refuseForeignDirectory(); // before the lock file is created in it
            if (!ctx.readOnly())
            {
                lockChannel = FileChannel.open(
                    dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                try
                {
                    lock = lockChannel.tryLock();
                }
                catch (final OverlappingFileLockException ex)
                {
                    lock = null;
                }
                if (null == lock)
                {
                    throw new JournalException("journal " + dir + " is in use by another writer (lock held on " +
                        dir.resolve(LOCK_FILE) + ")");
                }
            }
            this.lockChannel = lockChannel;
            this.lock = lock;
            this.recoveryReport = recover();
            this.tailCache = ctx.readOnly() || 0 == ctx.tailCacheBytes() ? null :
                new TailCache(ctx.tailCacheBytes(), committedPosition);
            this.appender = ctx.readOnly() ? null : new JournalAppender(this, ctx, currentSegment());
        }
        catch (final IOException ex)
        {
            closeQuietly(lockChannel);
            throw new JournalException("cannot open journal " + dir + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(lockChannel);
            throw ex;
        }
    }

    /**
     * Open (creating when missing, unless read-only) and recover a journal.
     *
     * @param ctx configuration; concluded here.
     * @return the open journal.
     * @throws JournalCorruptedException when damaged data precedes valid data.
     * @throws JournalException          for anything else that prevents opening, naming the file.
     */
    public static Journal open(final JournalContext ctx)
    {
        final Journal journal = new Journal(ctx.conclude());
        final RecoveryReport report = journal.recoveryReport;
        if (report.hadTornTail())
        {
            LOG.warn("journal {}: torn tail of {} bytes at {} offset {} ({}); {}; copies in {}",
                journal.dir, report.tornBytes(), report.tornFile(), report.tornFileOffset(), report.tornReason(),
                ctx.readOnly() ? "left in place (read-only)" : "cut", report.sideFiles());
        }
        LOG.info("journal {} opened: {} segments, {} frames, positions [{}, {})",
            journal.dir, report.segmentCount(), report.frameCount(), report.startPosition(), report.endPosition());
        return journal;
    }

    /** @return the journal's directory. */
    public Path dir()
    {
        return dir;
    }

    /** @return the configuration it was opened with. */
    public JournalContext context()
    {
        return ctx;
    }

    /** @return what recovery found and did on open. */
    public RecoveryReport recoveryReport()
    {
        return recoveryReport;
    }

    /**
     * The single appender. Use it from one thread only.
     *
     * @return the appender.
     * @throws JournalException when opened read-only.
     */
    public JournalAppender appender()
    {
        if (null == appender)
        {
            throw new JournalException("journal " + dir + " is open read-only");
        }
        return appender;
    }

    /**
     * A reader from a frame boundary: the start of the log, a position a frame reported, or the end.
     *
     * @param fromPosition where to start.
     * @return a new reader; close it when done.
     */
    public JournalReader reader(final long fromPosition)
    {
        final long start = startPosition();
        if (fromPosition < start)
        {
            throw new JournalException("position " + fromPosition + " is before the start of journal " + dir +
                " (" + start + ")");
        }
        return new JournalReader(this, fromPosition, ctx.readBufferBytes(), ctx.maxFrameLengthBytes());
    }

    /** @return position of the first frame the log holds. */
    public long startPosition()
    {
        return segments[0].basePosition;
    }

    /**
     * Position after the last whole group written to the file: what readers may see. Safe from any thread.
     *
     * @return committed position.
     */
    public long committedPosition()
    {
        return committedPosition;
    }

    /**
     * Position up to which the durability policy is met: what may be acknowledged. Safe from any thread.
     *
     * @return durable position.
     */
    public long durablePosition()
    {
        return durablePosition;
    }

    /** @return epoch of the last frame, 0 when the log is empty. Appender thread only. */
    public long lastEpoch()
    {
        return lastEpoch;
    }

    /** @return timestamp of the last frame, 0 when the log is empty. Appender thread only. */
    public long lastTimestampNs()
    {
        return lastTimestampNs;
    }

    /** @return stream index; owned by the appender thread. */
    public StreamIndex streamIndex()
    {
        return streamIndex;
    }

    /** @return number of segment files. */
    public int segmentCount()
    {
        return segments.length;
    }

    /**
     * Cut the log back to a group boundary, crash-safely: an intent file is written first, so a crash mid-way is
     * completed on the next open. Copies of the cut bytes are kept under {@code truncated/}. No reader may be
     * in use past the position. Appender thread only.
     *
     * @param position a position at the end of a group (a frame boundary after a frame that ends its group).
     */
    public void truncate(final long position)
    {
        ensureWritable();
        appender.flush();
        final long end = appender.position();
        if (position == end)
        {
            return;
        }
        if (position > end || position < startPosition())
        {
            throw new JournalException("cannot truncate journal " + dir + " to " + position + ": outside [" +
                startPosition() + ", " + end + "]");
        }
        final long committedBefore = committedPosition;
        final long durableBefore = durablePosition;
        final Path intentFile = dir.resolve(TRUNCATE_INTENT_FILE);
        int stage = CUT_NOT_STARTED;
        startCut();
        try
        {
            final long epochBefore = checkGroupBoundary(position);
            withdrawFrom(position); // readers stop at the position before a byte after it is cut
            stage = CUT_WRITING_INTENT;
            writeTruncateIntent(position);
            stage = CUT_CUTTING;
            cutAfter(position, dir.resolve(TRUNCATED_DIR), currentCutFiles);
            Files.deleteIfExists(intentFile);
            stage = CUT_DONE;
            fsyncDirectory(dir);
            afterTruncation(position, epochBefore);
        }
        catch (final IOException | RuntimeException ex)
        {
            failedCut(stage, intentFile, end, committedBefore, durableBefore);
            throw new JournalException("truncation of journal " + dir + " to " + position + " failed: " + ex, ex);
        }
        LOG.warn("journal {} truncated to position {} (was {}); cut bytes kept in {}",
            dir, position, end, dir.resolve(TRUNCATED_DIR));
        pruneTruncated();
    }

    /**
     * Retention: delete the oldest segments whose every frame lies before {@code position} (a snapshot covers them).
     * The segment holding the position, and the one being written, are always kept, so the journal then starts at
     * the base of the segment holding the position (or before it). Files go oldest first, so a crash midway leaves a
     * journal that starts later, never one with a hole. The index becomes {@linkplain StreamIndex#isPartial()
     * partial}; readers already past the deleted segments are unaffected. Appender thread only.
     *
     * @param position keep everything from here on (normally the position of the oldest snapshot kept).
     * @return number of segment files deleted.
     */
    public int deleteSegmentsBefore(final long position)
    {
        ensureWritable();
        int deleted = 0;
        long bytes = 0;
        try
        {
            while (segmentList.size() > 1 && segmentList.get(1).basePosition <= position)
            {
                final Segment oldest = segmentList.get(0);
                bytes += Files.size(oldest.file);
                Files.delete(oldest.file);
                segmentList.remove(0);
                segments = segmentList.toArray(new Segment[0]);
                deleted++;
            }
            if (deleted > 0)
            {
                fsyncDirectory(dir);
                streamIndex.partial(true);
                LOG.info("journal {}: retention deleted {} segments ({} MiB) before position {}; the journal now " +
                    "starts at {}", dir, deleted, bytes >> 20, position, startPosition());
            }
            return deleted;
        }
        catch (final IOException ex)
        {
            throw new JournalException("journal " + dir + ": retention could not delete segments before " +
                position + ": " + ex, ex);
        }
    }

    /**
     * Set the whole log aside and start again, empty, at {@code position} in {@code epoch}: a standby that installs a
     * snapshot taken at that position (it was empty, or behind the primary's oldest segment), or whose log diverges
     * from the primary's before anything it can rebuild from, continues from there. Crash-safe: an intent file is
     * written first and the reset is completed on the next open if a crash interrupts it. The old segment files are
     * moved under {@code truncated/}, not deleted (a divergent tail may hold commands an operator wants to see). The
     * index is cleared and partial. Appender thread only.
     *
     * @param position where the log now starts (a snapshot's log position, or 0).
     * @param epoch    epoch recorded in the new segment's header.
     */
    public void resetTo(final long position, final long epoch)
    {
        ensureWritable();
        if (position < 0)
        {
            throw new JournalException("cannot reset journal " + dir + " to negative position " + position);
        }
        appender.flush();
        final long end = appender.position();
        final long committedBefore = committedPosition;
        final long durableBefore = durablePosition;
        final Path intentFile = dir.resolve(RESET_INTENT_FILE);
        int stage = CUT_NOT_STARTED;
        startCut();
        try
        {
            withdrawFrom(Math.min(position, startPosition())); // no reader reads a file about to be set aside
            stage = CUT_WRITING_INTENT;
            writeIntent(RESET_INTENT_FILE, RESET_INTENT_MAGIC, position, epoch);
            stage = CUT_CUTTING;
            setAsideForReset(position);
            createSegment(position, epoch, ctx.epochClock().time());
            Files.deleteIfExists(intentFile);
            stage = CUT_DONE;
            fsyncDirectory(dir);
            streamIndex.clear(position > 0);
            lastEpoch = epoch;
            afterTruncation(position, epoch);
        }
        catch (final IOException | RuntimeException ex)
        {
            failedCut(stage, intentFile, end, committedBefore, durableBefore);
            throw new JournalException("journal " + dir + ": reset to position " + position + " failed: " + ex, ex);
        }
        LOG.warn("journal {} reset to start empty at position {} in epoch {}; the old log (to {}) is kept in {}",
            dir, position, epoch, end, dir.resolve(TRUNCATED_DIR));
        pruneTruncated();
    }

    /**
     * Moves every segment file under truncated/, newest first. An empty segment at the reset position is the one a
     * reset interrupted after creating it (nothing can have been appended before the intent was deleted): deleted.
     */
    private void setAsideForReset(final long position) throws IOException
    {
        for (int i = segmentList.size() - 1; i >= 0; i--)
        {
            final Segment segment = segmentList.get(i);
            if (segment.basePosition == position && Files.size(segment.file) <= SegmentHeader.LENGTH)
            {
                Files.delete(segment.file);
            }
            else
            {
                currentCutFiles.add(moveAside(segment.file, dir.resolve(TRUNCATED_DIR)));
            }
            segmentList.remove(i);
        }
        fsyncDirectory(dir);
        // segments (what readers on other threads see) changes once, when the new segment is created: never empty
    }

    /**
     * Flush what the appender holds (if writable) and close every file. Idempotent.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        try
        {
            if (null != appender)
            {
                appender.closeAppender();
            }
        }
        finally
        {
            closed = true;
            try
            {
                if (null != lock)
                {
                    lock.release();
                }
            }
            catch (final IOException ignore)
            {
                // closing the channel releases the lock anyway
            }
            closeQuietly(lockChannel);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // package-private plumbing for the appender and readers

    Segment[] segments()
    {
        return segments;
    }

    Segment currentSegment()
    {
        return segmentList.get(segmentList.size() - 1);
    }

    /** @return the ring of recently written bytes that readers at the live end copy from, or null. */
    TailCache tailCache()
    {
        return tailCache;
    }

    void publishCommitted(final long position)
    {
        committedPosition = position;
    }

    void onFsync(final long durationNs)
    {
        fsyncCount.lazySet(fsyncCount.get() + 1);
        fsyncNsTotal.lazySet(fsyncNsTotal.get() + durationNs);
        if (durationNs > fsyncNsMax.get())
        {
            fsyncNsMax.lazySet(durationNs);
        }
    }

    /** @return fsyncs of the journal's segment files since it was opened. Safe from any thread. */
    public long fsyncCount()
    {
        return fsyncCount.get();
    }

    /** @return time spent in those fsyncs, ns. Safe from any thread. */
    public long fsyncNsTotal()
    {
        return fsyncNsTotal.get();
    }

    /** @return the longest of those fsyncs, ns. Safe from any thread. */
    public long fsyncNsMax()
    {
        return fsyncNsMax.get();
    }

    void publishDurable(final long position)
    {
        durablePosition = position;
    }

    void onGroupCommitted(final long epoch, final long timestampNs)
    {
        lastEpoch = epoch;
        lastTimestampNs = timestampNs;
    }

    boolean isClosed()
    {
        return closed;
    }

    /**
     * Creation time recorded in a segment header: the time of the frame that opens it (ms), so that two journals
     * holding the same frames have byte-identical segment files (replication); 0 for a segment created empty.
     */
    static long segmentCreatedMs(final long firstFrameTimestampNs)
    {
        return Math.max(0, firstFrameTimestampNs / 1_000_000L);
    }

    Segment createSegment(final long basePosition, final long epoch, final long createdMs) throws IOException
    {
        final String name = SegmentHeader.fileName(basePosition);
        final Path file = dir.resolve(name);
        if (Files.exists(file))
        {
            throw new JournalException("cannot create segment " + file + ": it already exists");
        }
        final Path temp = dir.resolve(name + TEMP_SUFFIX);
        final ByteBuffer header = SegmentHeader.of(ctx.segmentSizeBytes(), basePosition, epoch, createdMs)
            .encode(checksums);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
        {
            writeFully(channel, header, 0);
            channel.force(true);
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(temp); // e.g. no space left: leave nothing behind, the log is unchanged
            throw ex;
        }
        moveAtomically(temp, file);
        fsyncDirectory(dir);
        final Segment segment = new Segment(file, basePosition, ctx.segmentSizeBytes());
        segmentList.add(segment);
        segments = segmentList.toArray(new Segment[0]);
        return segment;
    }

    void rollbackTo(final long position)
    {
        // used after a failed write: drop everything after the last committed position
        try
        {
            // the bytes after the position were never published (no reader, no acknowledgement saw them): cut them
            // without a copy, which also needs no space on a full disk
            cutAfter(position, null, new ArrayList<>());
            forgetCachedFrom(position);
            streamIndex.truncate(position);
            committedPosition = Math.min(committedPosition, position);
            durablePosition = Math.min(durablePosition, position);
        }
        catch (final IOException ex)
        {
            throw new JournalException("journal " + dir + ": cannot roll back to position " + position +
                " after a failed write: " + ex, ex);
        }
    }

    private void forgetCachedFrom(final long position)
    {
        if (null != tailCache)
        {
            tailCache.reset(position); // the bytes from there on are cut: never serve them again
        }
    }

    private void ensureWritable()
    {
        if (closed)
        {
            throw new JournalException("journal " + dir + " is closed");
        }
        if (null == appender)
        {
            throw new JournalException("journal " + dir + " is open read-only");
        }
    }

    /**
     * Before bytes from {@code position} on are cut or set aside: readers on other threads stop there (the committed
     * position they read up to is lowered) and the tail cache no longer serves them, so no reader copies bytes that
     * are about to change, nor reads a file while it is cut. If the cut then fails with its intent file written, the
     * journal stays withdrawn (the next open completes the cut).
     */
    private void withdrawFrom(final long position)
    {
        forgetCachedFrom(position);
        committedPosition = Math.min(committedPosition, position);
        durablePosition = Math.min(durablePosition, position);
    }

    /**
     * A truncation or reset failed at {@code stage}. Before its intent file was written nothing was cut: the log is
     * whole, so readers may read it all again and writes go on (an intent file that a failure while writing it left
     * behind is removed first; if even that fails, the journal refuses writes). From then on files may be cut, or
     * are: the journal stays withdrawn and refuses writes until the next open completes the cut.
     */
    private void failedCut(final int stage, final Path intentFile, final long end, final long committedBefore,
        final long durableBefore)
    {
        boolean whole = CUT_NOT_STARTED == stage;
        if (CUT_WRITING_INTENT == stage)
        {
            try
            {
                Files.deleteIfExists(intentFile);
                whole = true;
            }
            catch (final IOException | RuntimeException ignore)
            {
                // the next open may find it and cut: refuse writes until then
            }
        }
        if (whole)
        {
            forgetCachedFrom(end); // the cache holds nothing below the end: readers read the files
            committedPosition = committedBefore;
            durablePosition = durableBefore;
        }
        else
        {
            appender.fail(); // files (half) cut or set aside: no write until the next open completes it
        }
    }

    private void afterTruncation(final long position, final long epochBefore)
    {
        forgetCachedFrom(position);
        streamIndex.truncate(position);
        committedPosition = position;
        durablePosition = position;
        lastEpoch = epochBefore;
        segments = segmentList.toArray(new Segment[0]);
        appender.resetTo(position, currentSegment());
    }

    // ---------------------------------------------------------------------------------------------------------
    // directory, recovery

    private void prepareDirectory() throws IOException
    {
        if (!Files.exists(dir))
        {
            if (ctx.readOnly())
            {
                throw new JournalException("no journal at " + dir + ": the directory does not exist");
            }
            Files.createDirectories(dir);
        }
        if (!Files.isDirectory(dir))
        {
            throw new JournalException(dir + " is not a directory");
        }
    }

    /**
     * A directory with other files and no segment files is not a journal: refuse it before creating anything in it.
     */
    private void refuseForeignDirectory() throws IOException
    {
        boolean hasSegments = false;
        final List<String> strangers = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir))
        {
            for (final Path entry : stream)
            {
                final String name = entry.getFileName().toString();
                if (SegmentHeader.isSegmentFileName(name))
                {
                    hasSegments = true;
                }
                else if (!(name.startsWith(SegmentHeader.FILE_PREFIX) && name.endsWith(TEMP_SUFFIX)) &&
                    !isJournalHousekeeping(name))
                {
                    strangers.add(name);
                }
            }
        }
        if (!hasSegments && !strangers.isEmpty())
        {
            strangers.sort(null);
            throw new JournalException(dir + " is not a Keel journal: it holds " +
                strangers.subList(0, Math.min(5, strangers.size())) + (strangers.size() > 5 ? "..." : "") +
                " and no segment files");
        }
    }

    private List<Segment> listSegments() throws IOException
    {
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir))
        {
            for (final Path entry : stream)
            {
                final String name = entry.getFileName().toString();
                if (SegmentHeader.isSegmentFileName(name))
                {
                    files.add(entry);
                }
                else if (name.startsWith(SegmentHeader.FILE_PREFIX) && name.endsWith(TEMP_SUFFIX))
                {
                    // a roll interrupted before its rename: never part of the log
                    if (!ctx.readOnly())
                    {
                        Files.deleteIfExists(entry);
                    }
                }
            }
        }
        files.sort(null);
        final List<Segment> result = new ArrayList<>(files.size());
        for (final Path file : files)
        {
            result.add(new Segment(file, SegmentHeader.basePositionFromFileName(file.getFileName().toString()), 0));
        }
        return result;
    }

    private static boolean isJournalHousekeeping(final String name)
    {
        return LOCK_FILE.equals(name) || TORN_DIR.equals(name) || TRUNCATED_DIR.equals(name) ||
            TRUNCATE_INTENT_FILE.equals(name) || (TRUNCATE_INTENT_FILE + TEMP_SUFFIX).equals(name) ||
            RESET_INTENT_FILE.equals(name) || (RESET_INTENT_FILE + TEMP_SUFFIX).equals(name) ||
            name.startsWith(".");
    }

    private RecoveryReport recover() throws IOException
    {
        completeInterruptedReset();
        final List<Segment> found = listSegments();
        if (found.isEmpty())
        {
            if (ctx.readOnly())
            {
                throw new JournalException("no journal at " + dir + ": it holds no segment files");
            }
            createSegment(0, 0, 0);
            committedPosition = 0;
            durablePosition = 0;
            return new RecoveryReport(1, 0, 0, 0, 0, null, -1, null, List.of(), -1);
        }

        streamIndex.partial(found.get(0).basePosition > 0); // older segments were deleted: histories start later
        final RecoveryScan scan = new RecoveryScan(streamIndex);
        final SegmentScanner scanner = new SegmentScanner(ctx.maxFrameLengthBytes(), ctx.readBufferBytes());
        final List<Segment> valid = new ArrayList<>();
        final long[] fileLengths = new long[found.size()];
        long expectedBase = -1;
        Path tornFile = null;
        long tornFileOffset = -1;
        String tornReason = null;
        int tornSegmentIndex = -1;
        long firstHeaderEpoch = 0;

        for (int i = 0; i < found.size(); i++)
        {
            final Segment named = found.get(i);
            final boolean last = i == found.size() - 1;
            try (FileChannel channel = FileChannel.open(named.file, StandardOpenOption.READ))
            {
                final long fileLength = channel.size();
                fileLengths[i] = fileLength;
                if (fileLength < SegmentHeader.LENGTH)
                {
                    if (last)
                    {
                        // a segment cut inside its header: rolls are atomic (temp + rename), so only damage after
                        // the rename can do this; nothing in it was ever readable. The group it would have
                        // continued (if any) is incomplete and cut with it.
                        tornFile = named.file;
                        tornFileOffset = 0;
                        tornReason = "segment shorter than its header (" + fileLength + " bytes)";
                        tornSegmentIndex = i;
                        break;
                    }
                    throw new JournalCorruptedException(named.file, 0,
                        "segment shorter than its header (" + fileLength + " bytes)");
                }
                final ByteBuffer headerBytes = readHeaderBytes(channel);
                final SegmentHeader header;
                try
                {
                    header = SegmentHeader.decode(named.file, headerBytes, checksums);
                }
                catch (final JournalException ex)
                {
                    if (!last || SegmentHeader.declaresNewerVersion(headerBytes, checksums) ||
                        holdsValidFrame(channel, scanner, named, fileLength))
                    {
                        throw ex;
                    }
                    // the last segment's header is damaged and nothing valid follows it: a torn tail
                    tornFile = named.file;
                    tornFileOffset = 0;
                    tornReason = "segment header damaged (" + ex.getMessage() + ") and no valid frame in it";
                    tornSegmentIndex = i;
                    break;
                }
                if (header.basePosition != named.basePosition)
                {
                    throw new JournalCorruptedException(named.file, SegmentHeader.BASE_POSITION_OFFSET,
                        "header base position " + header.basePosition + " does not match the file name");
                }
                if (fileLength > header.segmentSizeBytes)
                {
                    throw new JournalException("segment " + named.file + " is " + fileLength +
                        " bytes, larger than its segment size " + header.segmentSizeBytes +
                        ": not written by Keel, or damaged");
                }
                if (expectedBase >= 0 && header.basePosition != expectedBase)
                {
                    throw new JournalCorruptedException(named.file, SegmentHeader.BASE_POSITION_OFFSET,
                        "base position " + header.basePosition + " does not follow the previous segment's end " +
                            expectedBase);
                }
                final Segment segment = new Segment(named.file, header.basePosition, header.segmentSizeBytes);
                final SegmentScanner.Result result = scanner.scan(channel, segment, fileLength, scan);
                if (scan.violation != null)
                {
                    throw new JournalCorruptedException(named.file, scan.violationOffset, scan.violation);
                }
                if (valid.isEmpty())
                {
                    firstHeaderEpoch = header.epoch;
                }
                valid.add(segment);
                expectedBase = segment.positionAt(result.validEndOffset);
                if (!result.clean())
                {
                    final long validAfter = scanner.findValidFrameAfter(channel, segment, result.badOffset, fileLength);
                    if (validAfter >= 0)
                    {
                        throw new JournalCorruptedException(named.file, result.badOffset, result.badReason +
                            "; a valid frame follows at offset " + validAfter);
                    }
                    final int laterWithFrames = firstLaterSegmentWithFrames(found, i + 1, scanner);
                    if (laterWithFrames >= 0)
                    {
                        throw new JournalCorruptedException(named.file, result.badOffset, result.badReason +
                            "; valid frames follow in " + found.get(laterWithFrames).file);
                    }
                    tornFile = named.file;
                    tornFileOffset = result.badOffset;
                    tornReason = result.badReason;
                    tornSegmentIndex = i + 1;
                    break;
                }
            }
        }

        final long groupEnd = valid.isEmpty() ? found.get(0).basePosition : scan.groupEndOr(valid.get(0).basePosition);
        final long physicalEnd = expectedBase < 0 ? groupEnd : expectedBase;
        long tornBytes = 0;
        if (tornFile != null || physicalEnd > groupEnd)
        {
            tornBytes = tornBytesFrom(groupEnd, valid, found, fileLengths);
            if (null == tornFile)
            {
                final int index = Segment.indexOf(valid.toArray(new Segment[0]), groupEnd);
                tornFile = valid.get(index).file;
                tornFileOffset = valid.get(index).fileOffset(groupEnd);
                tornReason = "last group incomplete (no end-of-group frame)";
            }
        }

        final List<Path> sideFiles = new ArrayList<>();
        segmentList.clear();
        if (ctx.readOnly())
        {
            segmentList.addAll(valid);
        }
        else
        {
            segmentList.addAll(valid);
            if (tornBytes > 0 || tornSegmentIndex >= 0)
            {
                // segments wholly beyond the valid ones (damaged header, or nothing valid) go aside first
                for (int i = found.size() - 1; i >= valid.size(); i--)
                {
                    sideFiles.add(moveAside(found.get(i).file, dir.resolve(TORN_DIR)));
                }
                fsyncDirectory(dir);
                if (segmentList.isEmpty())
                {
                    createSegment(groupEnd, 0, 0);
                }
                cutAfter(groupEnd, dir.resolve(TORN_DIR), sideFiles);
            }
        }
        if (segmentList.isEmpty())
        {
            // read-only view of a journal whose only segment is torn inside its header
            throw new JournalException("journal " + dir + " holds no readable segment: " + tornFile + " " +
                tornReason);
        }
        segments = segmentList.toArray(new Segment[0]);
        // a log without a whole group: the epoch its first segment was created in, which is the epoch a reset
        // started it in (0 for a new journal), as resetTo reported before this open
        lastEpoch = scan.groupEndOr(-1) < 0 ? firstHeaderEpoch : scan.lastGroupEpoch;
        lastTimestampNs = scan.lastGroupTimestampNs;
        committedPosition = groupEnd;
        durablePosition = groupEnd;

        long completedTruncation = -1;
        final long intent = readTruncateIntent();
        if (intent >= 0)
        {
            if (ctx.readOnly())
            {
                throw new JournalException("journal " + dir + " has an interrupted truncation to position " +
                    intent + "; open it for writing once to complete it");
            }
            resumeCut(dir.resolve(TRUNCATE_INTENT_FILE));
            if (intent < groupEnd)
            {
                final long epochBefore = checkGroupBoundary(intent);
                cutAfter(intent, dir.resolve(TRUNCATED_DIR), currentCutFiles);
                sideFiles.addAll(currentCutFiles);
                streamIndex.truncate(intent);
                committedPosition = intent;
                durablePosition = intent;
                lastEpoch = epochBefore;
                segments = segmentList.toArray(new Segment[0]);
            }
            Files.deleteIfExists(dir.resolve(TRUNCATE_INTENT_FILE));
            fsyncDirectory(dir);
            completedTruncation = intent;
            LOG.warn("journal {}: completed an interrupted truncation to position {}", dir, intent);
            pruneTruncated();
        }

        return new RecoveryReport(segmentList.size(),
            completedTruncation >= 0 ? countFrames(committedPosition) : scan.framesThroughGroupEnd,
            segments[0].basePosition, committedPosition, tornBytes, tornFile, tornFileOffset, tornReason, sideFiles,
            completedTruncation);
    }

    private long countFrames(final long end)
    {
        final long[] count = new long[1];
        try (JournalReader reader = new JournalReader(this, startPosition(), ctx.readBufferBytes(),
            ctx.maxFrameLengthBytes()))
        {
            while (reader.position() < end && reader.poll(frame -> count[0]++, Integer.MAX_VALUE) > 0)
            {
                // counting
            }
        }
        return count[0];
    }

    private long tornBytesFrom(
        final long groupEnd, final List<Segment> valid, final List<Segment> found, final long[] fileLengths)
    {
        long bytes = 0;
        for (int i = 0; i < found.size(); i++)
        {
            if (i < valid.size())
            {
                final Segment segment = valid.get(i);
                final long cutOffset = Math.max(SegmentHeader.LENGTH, segment.fileOffset(Math.max(groupEnd,
                    segment.basePosition)));
                bytes += Math.max(0, fileLengths[i] - cutOffset);
            }
            else
            {
                bytes += fileLengths[i];
            }
        }
        return bytes;
    }

    /** Does a segment whose header cannot be trusted hold any valid frame (taking its base from its name)? */
    private static boolean holdsValidFrame(
        final FileChannel channel, final SegmentScanner scanner, final Segment named, final long fileLength)
        throws IOException
    {
        final Segment byName = new Segment(named.file, named.basePosition, fileLength);
        return scanner.findValidFrameFrom(channel, byName, SegmentHeader.LENGTH, fileLength) >= 0;
    }

    private int firstLaterSegmentWithFrames(final List<Segment> found, final int from, final SegmentScanner scanner)
        throws IOException
    {
        for (int i = from; i < found.size(); i++)
        {
            final Segment named = found.get(i);
            try (FileChannel channel = FileChannel.open(named.file, StandardOpenOption.READ))
            {
                final long length = channel.size();
                if (length <= SegmentHeader.LENGTH)
                {
                    continue;
                }
                final ByteBuffer headerBytes = readHeaderBytes(channel);
                final SegmentHeader header;
                try
                {
                    header = SegmentHeader.decode(named.file, headerBytes, checksums);
                }
                catch (final JournalException ex)
                {
                    continue;
                }
                final Segment segment = new Segment(named.file, header.basePosition, header.segmentSizeBytes);
                // findValidFrameFrom reads this segment's channel (check() alone would read the window of
                // whatever file the scanner read last)
                if (scanner.findValidFrameFrom(channel, segment, SegmentHeader.LENGTH, length) >= 0)
                {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * Remove everything after a position: later segments are moved into sideDir, the segment holding the
     * position is cut there with a copy of the cut bytes in sideDir. Works from the last segment backwards, so a
     * crash leaves a longer log, never a hole; the caller's intent file makes it complete on the next open.
     * A null sideDir drops the bytes without a copy (for bytes that were never published).
     */
    private void cutAfter(final long position, final Path sideDir, final Collection<Path> sideFiles) throws IOException
    {
        for (int i = segmentList.size() - 1; i >= 0; i--)
        {
            final Segment segment = segmentList.get(i);
            if (segment.basePosition > position)
            {
                if (null == sideDir)
                {
                    Files.delete(segment.file);
                }
                else
                {
                    sideFiles.add(moveAside(segment.file, sideDir));
                }
                segmentList.remove(i);
                continue;
            }
            final long cutOffset = segment.fileOffset(position);
            try (FileChannel channel = FileChannel.open(segment.file, StandardOpenOption.READ,
                StandardOpenOption.WRITE))
            {
                final long length = channel.size();
                if (length > cutOffset && null == sideDir)
                {
                    channel.truncate(cutOffset);
                    channel.force(true);
                }
                else if (length > cutOffset)
                {
                    Files.createDirectories(sideDir);
                    final Path side = uniqueSideFile(sideDir, segment.file.getFileName() + "." + cutOffset);
                    try (FileChannel out = FileChannel.open(side, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE))
                    {
                        long copied = 0;
                        while (copied < length - cutOffset)
                        {
                            copied += channel.transferTo(cutOffset + copied, length - cutOffset - copied, out);
                        }
                        out.force(true);
                    }
                    Files.setLastModifiedTime(side, FileTime.fromMillis(setAsideStampMs()));
                    sideFiles.add(side);
                    channel.truncate(cutOffset);
                    channel.force(true);
                }
            }
            break;
        }
        fsyncDirectory(dir);
        segments = segmentList.toArray(new Segment[0]);
    }

    private Path moveAside(final Path file, final Path sideDir) throws IOException
    {
        Files.createDirectories(sideDir);
        final Path target = uniqueSideFile(sideDir, file.getFileName().toString());
        // when it was set aside, which orders the oldest first for pruneTruncated (its last write may be much
        // older); set before the move (a rename keeps it), so a crash between the two cannot leave an old time
        Files.setLastModifiedTime(file, FileTime.fromMillis(setAsideStampMs()));
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** A cut starts now (wall clock): its intent file carries that time, and its files are stamped no earlier. */
    private void startCut()
    {
        currentCutStartMs = ctx.epochClock().time();
        currentCutFiles.clear();
    }

    /** The interrupted cut whose intent file this is becomes the cut being completed, from the start it recorded. */
    private void resumeCut(final Path intentFile) throws IOException
    {
        currentCutStartMs = Files.getLastModifiedTime(intentFile).toMillis();
        currentCutFiles.clear();
    }

    /**
     * @return when a file is set aside: now, but never before the current cut started, so that a wall clock stepped
     * back during a cut cannot make its own files look older than its start (after a crash, pruneTruncated knows
     * the files an interrupted cut set aside only by their stamps, and would take them for an earlier cut's).
     */
    private long setAsideStampMs()
    {
        return Math.max(ctx.epochClock().time(), currentCutStartMs);
    }

    private record SetAside(Path file, long modifiedMs, long size)
    {
    }

    /**
     * Keep {@code truncated/} within {@link JournalContext#truncatedRetainBytes()}: the files set aside before the
     * latest cut started ({@code currentCutStartMs}; a file's modification time is when it was set aside) are
     * deleted oldest first while the folder holds more; those of the latest cut are always kept. They are known by
     * name ({@code currentCutFiles}), not by their stamps, which a filesystem with coarse modification times (whole
     * seconds on ext3, HFS+ and some network filesystems, two seconds on FAT) rounds down below the cut's start.
     * Only the files an interrupted cut set aside before a crash are known by their stamps alone; the filesystem
     * rounds those as it rounds its intent file's time, which the completed cut's start is read from, so they are
     * never earlier than it. Best effort: a file that cannot be deleted is left and logged, the journal itself is
     * unaffected.
     */
    private void pruneTruncated()
    {
        final long retain = ctx.truncatedRetainBytes();
        final Path sideDir = dir.resolve(TRUNCATED_DIR);
        if (retain < 0 || !Files.isDirectory(sideDir))
        {
            return;
        }
        final List<SetAside> older = new ArrayList<>();
        long total = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(sideDir))
        {
            for (final Path file : files)
            {
                if (!Files.isRegularFile(file))
                {
                    continue;
                }
                final long size = Files.size(file);
                total += size;
                final long modifiedMs = Files.getLastModifiedTime(file).toMillis();
                if (modifiedMs < currentCutStartMs && !currentCutFiles.contains(file))
                {
                    older.add(new SetAside(file, modifiedMs, size));
                }
            }
            older.sort(Comparator.comparingLong(SetAside::modifiedMs).thenComparing(SetAside::file));
            int deleted = 0;
            long deletedBytes = 0;
            for (int i = 0; i < older.size() && total > retain; i++)
            {
                final SetAside file = older.get(i);
                Files.delete(file.file());
                total -= file.size();
                deletedBytes += file.size();
                deleted++;
            }
            if (deleted > 0)
            {
                fsyncDirectory(sideDir);
                LOG.warn("journal {}: deleted the {} oldest files ({} bytes) set aside in {}, which held more than " +
                    "{} bytes ({}); {} bytes kept", dir, deleted, deletedBytes, sideDir, retain,
                    JournalContext.TRUNCATED_RETAIN_PROP, total);
            }
        }
        catch (final IOException | RuntimeException ex) // e.g. DirectoryIteratorException: best effort
        {
            LOG.warn("journal {}: could not prune {}: {}", dir, sideDir, ex.toString());
        }
    }

    private static Path uniqueSideFile(final Path sideDir, final String name)
    {
        Path candidate = sideDir.resolve(name);
        for (int i = 1; Files.exists(candidate); i++)
        {
            candidate = sideDir.resolve(name + "." + i);
        }
        return candidate;
    }

    /** @return the epoch the first segment was created in, from its header. */
    private long firstSegmentEpoch() throws IOException
    {
        final Path file = segmentList.get(0).file;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            return SegmentHeader.decode(file, readHeaderBytes(channel), checksums).epoch;
        }
    }

    /** @return a segment's header bytes (at position 0, {@link SegmentHeader#LENGTH} of them), ready to decode. */
    private static ByteBuffer readHeaderBytes(final FileChannel channel) throws IOException
    {
        final ByteBuffer headerBytes = ByteBuffer.allocateDirect(SegmentHeader.LENGTH);
        FileChannelUtil.readFully(channel, headerBytes, 0);
        headerBytes.flip();
        return headerBytes;
    }

    /**
     * Check that a position is the end of a whole group in the log and return the epoch of the frame before it.
     */
    private long checkGroupBoundary(final long position) throws IOException
    {
        final long start = startPosition();
        if (position == start)
        {
            return firstSegmentEpoch(); // no frame before it: as an open reports a log without a whole group
        }
        final long[] previous = { -1, 0, 0 }; // end position of previous frame, its flags, its epoch
        final SegmentScanner scanner = new SegmentScanner(ctx.maxFrameLengthBytes(), ctx.readBufferBytes());
        final Segment[] all = segmentList.toArray(new Segment[0]);
        int index = Segment.indexOf(all, position);
        if (all[index].basePosition == position && index > 0)
        {
            index--; // the frame before the position is in the previous segment
        }
        final Segment segment = all[index];
        try (FileChannel channel = FileChannel.open(segment.file, StandardOpenOption.READ))
        {
            final long limit = Math.min(channel.size(), segment.fileOffset(position));
            scanner.scan(channel, segment, limit, (s, offset, frame) ->
            {
                previous[0] = frame.nextPosition();
                previous[1] = frame.flags();
                previous[2] = frame.epoch();
            });
        }
        if (previous[0] != position)
        {
            throw new JournalException("position " + position + " is not a frame boundary in journal " + dir);
        }
        if ((previous[1] & FrameDescriptor.FLAG_END_OF_GROUP) == 0)
        {
            throw new JournalException("position " + position + " is inside a group in journal " + dir +
                ": truncate only at the end of a group");
        }
        return previous[2];
    }

    private void writeTruncateIntent(final long position) throws IOException
    {
        writeIntent(TRUNCATE_INTENT_FILE, INTENT_MAGIC, position, 0);
    }

    private long readTruncateIntent() throws IOException
    {
        final long[] intent = readIntent(TRUNCATE_INTENT_FILE, INTENT_MAGIC);
        return null == intent ? -1 : intent[0];
    }

    /** A reset that a crash interrupted: finish it before anything reads the segments. */
    private void completeInterruptedReset() throws IOException
    {
        final long[] intent = readIntent(RESET_INTENT_FILE, RESET_INTENT_MAGIC);
        if (null == intent)
        {
            return;
        }
        if (ctx.readOnly())
        {
            throw new JournalException("journal " + dir + " has an interrupted reset to position " + intent[0] +
                " (" + dir.resolve(RESET_INTENT_FILE) + "); open it for writing once to complete it");
        }
        resumeCut(dir.resolve(RESET_INTENT_FILE));
        segmentList.clear();
        segmentList.addAll(listSegments());
        setAsideForReset(intent[0]);
        createSegment(intent[0], intent[1], ctx.epochClock().time());
        segmentList.clear();
        Files.deleteIfExists(dir.resolve(RESET_INTENT_FILE));
        fsyncDirectory(dir);
        LOG.warn("journal {}: completed an interrupted reset to position {} in epoch {}; the old log is kept in {}",
            dir, intent[0], intent[1], dir.resolve(TRUNCATED_DIR));
        pruneTruncated();
    }

    /**
     * Intent file: magic, two values, CRC32C of the 24 bytes before it. Written and synced under a temporary name,
     * then renamed: an intent file is whole or absent. Its modification time is the cut's start, set before the sync
     * so that it is as durable as the content: an interrupted cut is completed from that time on the next open, and
     * the files it set aside before the crash carry stamps no earlier.
     */
    private void writeIntent(final String name, final long magic, final long first, final long second)
        throws IOException
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(INTENT_LENGTH);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        buffer.putLong(0, magic, FrameDescriptor.BYTE_ORDER);
        buffer.putLong(8, first, FrameDescriptor.BYTE_ORDER);
        buffer.putLong(16, second, FrameDescriptor.BYTE_ORDER);
        buffer.putInt(24, checksums.crc32c(bytes, 0, 24), FrameDescriptor.BYTE_ORDER);
        final Path temp = dir.resolve(name + TEMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
        {
            writeFully(channel, bytes, 0);
            Files.setLastModifiedTime(temp, FileTime.fromMillis(currentCutStartMs)); // a rename keeps it
            channel.force(true);
        }
        moveAtomically(temp, dir.resolve(name));
        fsyncDirectory(dir);
    }

    /** @return the two values of a valid intent file, or null when there is none. */
    private long[] readIntent(final String name, final long magic) throws IOException
    {
        final Path file = dir.resolve(name);
        if (!ctx.readOnly())
        {
            Files.deleteIfExists(dir.resolve(name + TEMP_SUFFIX)); // never renamed: the operation never began
        }
        final byte[] content;
        try
        {
            content = Files.readAllBytes(file);
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
        if (content.length != INTENT_LENGTH && !(INTENT_MAGIC == magic && content.length == OLD_INTENT_LENGTH))
        {
            throw new JournalCorruptedException(file, 0, name + " of " + content.length + " bytes, expected " +
                INTENT_LENGTH);
        }
        final ByteBuffer bytes = ByteBuffer.allocateDirect(content.length);
        bytes.put(content).flip();
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int crcOffset = content.length - 4;
        if (buffer.getLong(0, FrameDescriptor.BYTE_ORDER) != magic ||
            buffer.getInt(crcOffset, FrameDescriptor.BYTE_ORDER) != checksums.crc32c(bytes, 0, crcOffset))
        {
            throw new JournalCorruptedException(file, 0, name + " fails its checksum");
        }
        return new long[]{ buffer.getLong(8, FrameDescriptor.BYTE_ORDER),
            content.length == INTENT_LENGTH ? buffer.getLong(16, FrameDescriptor.BYTE_ORDER) : 0 };
    }

    static void writeFully(final FileChannel channel, final ByteBuffer bytes, final long fileOffset) throws IOException
    {
        FileChannelUtil.writeFully(channel, bytes, fileOffset);
    }

    static void fsyncDirectory(final Path dir) throws IOException
    {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ))
        {
            channel.force(true);
        }
    }

    static void moveAtomically(final Path from, final Path to) throws IOException
    {
        try
        {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final AtomicMoveNotSupportedException ex)
        {
            throw new JournalException("the file system of " + to.getParent() +
                " cannot rename atomically; Keel needs it for crash safety", ex);
        }
    }

    static void closeQuietly(final AutoCloseable closeable)
    {
        if (null != closeable)
        {
            try
            {
                closeable.close();
            }
            catch (final Exception ignore)
            {
                // best effort on an error path
            }
        }
    }

    /**
     * Tracks groups while recovery scans: index entries of a group are added once its end is seen, so the index
     * holds whole groups only. Invariants (epochs non-decreasing, stream versions contiguous) are checked here:
     * a frame with a valid checksum that breaks one is corruption, not a torn tail.
     */
    private static final class RecoveryScan implements SegmentScanner.Visitor
    {
        private final StreamIndex index;
        private long[] pending = new long[4 * 16]; // streamId, version, position, timestamp per frame
        private int pendingFrames;
        private long groupEnd = -1;
        private long framesThroughGroupEnd;
        private long framesSeen;
        private long lastEpochSeen;
        private long lastGroupEpoch;
        private long lastGroupTimestampNs;
        private String violation;
        private long violationOffset;

        RecoveryScan(final StreamIndex index)
        {
            this.index = index;
        }

        @Override
        public void onFrame(final Segment segment, final long fileOffset, final JournalFrame frame)
        {
            if (null != violation)
            {
                return;
            }
            framesSeen++;
            final long epoch = frame.epoch();
            if (epoch < lastEpochSeen)
            {
                violation = "epoch " + epoch + " after epoch " + lastEpochSeen;
                violationOffset = fileOffset;
                return;
            }
            lastEpochSeen = epoch;
            if (frame.streamId() != FrameDescriptor.NO_STREAM)
            {
                if (pendingFrames * 4 + 4 > pending.length)
                {
                    pending = Arrays.copyOf(pending, pending.length * 2);
                }
                final int i = pendingFrames * 4;
                pending[i] = frame.streamId();
                pending[i + 1] = frame.streamVersion();
                pending[i + 2] = frame.position();
                pending[i + 3] = frame.timestampNs();
                pendingFrames++;
            }
            if (frame.isEndOfGroup())
            {
                for (int p = 0; p < pendingFrames; p++)
                {
                    final int i = p * 4;
                    try
                    {
                        index.add(pending[i], pending[i + 1], pending[i + 2], pending[i + 3]);
                    }
                    catch (final IllegalStateException ex)
                    {
                        violation = ex.getMessage();
                        violationOffset = fileOffset;
                        return;
                    }
                }
                pendingFrames = 0;
                groupEnd = frame.nextPosition();
                framesThroughGroupEnd = framesSeen;
                lastGroupEpoch = epoch;
                lastGroupTimestampNs = frame.timestampNs();
            }
        }

        boolean noFramesAfterGroupEnd()
        {
            return framesSeen == framesThroughGroupEnd;
        }

        long groupEndOr(final long dflt)
        {
            return groupEnd < 0 ? dflt : groupEnd;
        }
    }
}
