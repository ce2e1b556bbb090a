package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Snapshot files in one directory. A snapshot is written to a temp file, fsynced, renamed into place and the
 * directory fsynced, so a crash at any step leaves either the previous snapshots or the new one, never a partial
 * file under a snapshot name. The last {@code retain} are kept. Loading takes the newest that checks out and
 * reports (and skips) any corrupt one for an older one.
 *
 * <pre>
 *   0  magic "KEELSNAP" (8)      8  format version (4)     12 header length (4)
 *  16  log position (8)         24  created ms (8)         32 payload length (8)
 *  40  payload CRC32C (4)       44  header CRC32C of [0, 44) (4)
 *  48  payload
 * </pre>
 */
public final class SnapshotStore
{
    static final long MAGIC = 0x50414E534C45454BL; // "KEELSNAP" little-endian
    static final int FORMAT_VERSION = 1;
    static final int HEADER_LENGTH = 48;
    static final String PREFIX = "snapshot-";
    static final String SUFFIX = ".snap";
    static final String TEMP_SUFFIX = ".tmp";
    static final String RETIRED_DIR = "retired";

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);

    /** Steps of a snapshot write, for fault-injection tests. */
    public enum Step
    {
        /** Temp file written, not yet fsynced. */
        TEMP_WRITTEN,
        /** Temp file fsynced. */
        TEMP_SYNCED,
        /** Temp file renamed to its snapshot name. */
        RENAMED,
        /** Directory fsynced: the snapshot is durable. */
        DIRECTORY_SYNCED,
        /** Older snapshots beyond the retained count deleted. */
        PRUNED
    }

    /** Called after each step of a write; a test throws from it to simulate a crash at that step. */
    @FunctionalInterface
    public interface StepListener
    {
        /**
         * @param step the step just completed.
         * @param file the file it concerned.
         */
        void afterStep(Step step, Path file);
    }

    private final Path dir;
    private final int retain;
    private final Checksums checksums = new Checksums();
    private final List<String> skipped = new ArrayList<>();
    private StepListener stepListener = (step, file) -> {};

    private SnapshotStore(final Path dir, final int retain)
    {
        this.dir = dir;
        this.retain = retain;
    }

    /**
     * Open (creating when missing) a snapshot directory; leftover temp files of interrupted writes are removed.
     *
     * @param dir    snapshot directory.
     * @param retain snapshots to keep, at least 1.
     * @return the store.
     */
    public static SnapshotStore open(final Path dir, final int retain)
    {
        if (retain < 1)
        {
            throw new IllegalArgumentException("snapshot retain count must be at least 1: " + retain);
        }
        try
        {
            Files.createDirectories(dir);
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, PREFIX + "*" + TEMP_SUFFIX))
            {
                for (final Path temp : stream)
                {
                    Files.delete(temp);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot open snapshot directory " + dir + ": " + ex, ex);
        }
        return new SnapshotStore(dir, retain);
    }

    /**
     * Open a snapshot directory only to read it, from a thread other than the one that writes snapshots there:
     * unlike {@link #open(Path, int)} it leaves temporary files alone (a write may be in progress) and never prunes.
     *
     * @param dir snapshot directory.
     * @return the store; {@link #write} must not be called on it.
     */
    public static SnapshotStore openForReading(final Path dir)
    {
        return new SnapshotStore(dir, Integer.MAX_VALUE);
    }

    /**
     * Install a listener called after each write step (tests).
     *
     * @param listener called after each step.
     * @return this.
     */
    public SnapshotStore stepListener(final StepListener listener)
    {
        this.stepListener = listener;
        return this;
    }

    /** @return the directory. */
    public Path dir()
    {
        return dir;
    }

    /**
     * Write a snapshot covering the log up to a position, crash-safely, then prune old ones.
     *
     * @param logPosition position the state corresponds to.
     * @param payload     state bytes, from its position to its limit (not consumed).
     * @return the snapshot file.
     */
    public Path write(final long logPosition, final ByteBuffer payload)
    {
        final ByteBuffer source = payload.duplicate();
        final ByteBuffer direct;
        if (source.isDirect())
        {
            direct = source.slice();
        }
        else
        {
            direct = ByteBuffer.allocateDirect(source.remaining());
            direct.put(source).flip();
        }
        final Path file = dir.resolve(fileName(logPosition));
        final Path temp = dir.resolve(fileName(logPosition) + TEMP_SUFFIX);
        try
        {
            final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_LENGTH);
            final UnsafeBuffer h = new UnsafeBuffer(header);
            h.putLong(0, MAGIC, FrameDescriptor.BYTE_ORDER);
            h.putInt(8, FORMAT_VERSION, FrameDescriptor.BYTE_ORDER);
            h.putInt(12, HEADER_LENGTH, FrameDescriptor.BYTE_ORDER);
            h.putLong(16, logPosition, FrameDescriptor.BYTE_ORDER);
            h.putLong(24, System.currentTimeMillis(), FrameDescriptor.BYTE_ORDER);
            h.putLong(32, direct.remaining(), FrameDescriptor.BYTE_ORDER);
            h.putInt(40, crcOf(direct), FrameDescriptor.BYTE_ORDER);
            h.putInt(44, checksums.crc32c(header, 0, 44), FrameDescriptor.BYTE_ORDER);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
            {
                FileChannelUtil.writeFully(channel, header, 0);
                FileChannelUtil.writeFully(channel, direct, HEADER_LENGTH);
                stepListener.afterStep(Step.TEMP_WRITTEN, temp);
                channel.force(true);
            }
            stepListener.afterStep(Step.TEMP_SYNCED, temp);
            Journal.moveAtomically(temp, file);
            stepListener.afterStep(Step.RENAMED, file);
            Journal.fsyncDirectory(dir);
            stepListener.afterStep(Step.DIRECTORY_SYNCED, file);
            prune();
            stepListener.afterStep(Step.PRUNED, file);
            return file;
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot write snapshot " + file + ": " + ex, ex);
        }
    }

    /**
     * The newest snapshot that checks out. Corrupt ones are logged, listed in {@link #skipped()} and passed over
     * for older ones; they are left in place for inspection.
     *
     * @return the newest valid snapshot, or empty when there is none.
     */
    public Optional<Snapshot> loadLatest()
    {
        skipped.clear();
        final List<Path> files = list();
        for (int i = files.size() - 1; i >= 0; i--)
        {
            final Path file = files.get(i);
            try
            {
                return Optional.of(read(file));
            }
            catch (final JournalException ex)
            {
                skipped.add(ex.getMessage());
                LOG.warn("skipping snapshot: {}", ex.getMessage());
            }
        }
        return Optional.empty();
    }

    /** @return why each snapshot passed over by the last {@link #loadLatest()} was skipped. */
    public List<String> skipped()
    {
        return Collections.unmodifiableList(skipped);
    }

    /**
     * Snapshot files, oldest first.
     *
     * @return the files.
     */
    public List<Path> list()
    {
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX))
        {
            for (final Path file : stream)
            {
                files.add(file);
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot list snapshots in " + dir + ": " + ex, ex);
        }
        files.sort(null);
        return files;
    }

    /**
     * Move a snapshot that no longer matches the journal (it covers a position beyond the journal's end: the tail it
     * covered was lost or truncated) into {@code retired/}, so it is never loaded again, even once the journal grows
     * past its position with other commands. Kept, not deleted, for inspection.
     *
     * @param file snapshot file in this store.
     * @return where it was moved.
     */
    public Path retire(final Path file)
    {
        try
        {
            final Path retiredDir = dir.resolve(RETIRED_DIR);
            Files.createDirectories(retiredDir);
            Path target = retiredDir.resolve(file.getFileName().toString());
            for (int i = 1; Files.exists(target); i++)
            {
                target = retiredDir.resolve(file.getFileName() + "." + i);
            }
            Journal.moveAtomically(file, target);
            Journal.fsyncDirectory(dir);
            return target;
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot retire snapshot " + file + ": " + ex, ex);
        }
    }

    /**
     * Read and check one snapshot file.
     *
     * @param file snapshot file.
     * @return the snapshot.
     * @throws JournalException naming the file and offset of what is wrong.
     */
    public Snapshot read(final Path file)
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            if (size < HEADER_LENGTH)
            {
                throw new JournalException("snapshot " + file + " is " + size + " bytes, shorter than its header");
            }
            final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_LENGTH);
            FileChannelUtil.readFully(channel, header, 0);
            final UnsafeBuffer h = new UnsafeBuffer(header);
            if (h.getLong(0, FrameDescriptor.BYTE_ORDER) != MAGIC)
            {
                throw new JournalException("snapshot " + file + " has a bad magic at offset 0");
            }
            if (h.getInt(44, FrameDescriptor.BYTE_ORDER) != checksums.crc32c(header, 0, 44))
            {
                throw new JournalException("snapshot " + file + " header fails its checksum at offset 44");
            }
            final int version = h.getInt(8, FrameDescriptor.BYTE_ORDER);
            if (version > FORMAT_VERSION)
            {
                throw new JournalException("snapshot " + file + " has format version " + version +
                    ", newer than this build supports (" + FORMAT_VERSION + ")");
            }
            final long logPosition = h.getLong(16, FrameDescriptor.BYTE_ORDER);
            final long payloadLength = h.getLong(32, FrameDescriptor.BYTE_ORDER);
            if (payloadLength != size - HEADER_LENGTH || payloadLength > Integer.MAX_VALUE)
            {
                throw new JournalException("snapshot " + file + " payload length " + payloadLength +
                    " does not match its file size " + size);
            }
            final ByteBuffer payload = ByteBuffer.allocateDirect((int)payloadLength);
            FileChannelUtil.readFully(channel, payload, HEADER_LENGTH);
            payload.flip();
            if (crcOf(payload) != h.getInt(40, FrameDescriptor.BYTE_ORDER))
            {
                throw new JournalException("snapshot " + file + " payload fails its checksum (offset " +
                    HEADER_LENGTH + ", " + payloadLength + " bytes)");
            }
            if (!fileName(logPosition).equals(file.getFileName().toString()))
            {
                throw new JournalException("snapshot " + file + " covers position " + logPosition +
                    ", which does not match its name");
            }
            return new Snapshot(file, logPosition, h.getLong(24, FrameDescriptor.BYTE_ORDER), payload);
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot read snapshot " + file + ": " + ex, ex);
        }
    }

    private int crcOf(final ByteBuffer payload)
    {
        // CRC32C over the whole payload
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(payload.duplicate());
        return (int)crc.getValue();
    }

    private void prune() throws IOException
    {
        final List<Path> files = list();
        for (int i = 0; i < files.size() - retain; i++)
        {
            Files.deleteIfExists(files.get(i));
        }
    }

    /**
     * @return the log position of the oldest snapshot file kept (by name; not read), or -1 when there is none.
     */
    public long oldestPosition()
    {
        final long[] positions = positions();
        return positions.length == 0 ? -1 : positions[0];
    }

    /**
     * @return the log positions of the snapshot files kept (by name; not read), ascending.
     */
    public long[] positions()
    {
        final List<Path> files = list();
        final long[] positions = new long[files.size()];
        int count = 0;
        for (final Path file : files)
        {
            final String name = file.getFileName().toString();
            try
            {
                positions[count] = Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length()));
                count++;
            }
            catch (final NumberFormatException | IndexOutOfBoundsException ex)
            {
                // not one of ours
            }
        }
        final long[] result = java.util.Arrays.copyOf(positions, count);
        java.util.Arrays.sort(result);
        return result;
    }

    static String fileName(final long logPosition)
    {
        return PREFIX + String.format("%020d", logPosition) + SUFFIX;
    }
}
