package io.keel.engine;

import com.lmax.disruptor.EventPoller;
import io.keel.journal.FrameDescriptor;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalException;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import io.keel.journal.Snapshot;
import io.keel.journal.SnapshotStore;
import io.keel.journal.StreamIndex;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesIn;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static io.keel.engine.EngineCounters.add;
import static io.keel.engine.EngineCounters.increment;

/**
 * The single writer: takes commands from the ring and, for each, dedupes, decides, journals, applies and queues
 * the answer; once per batch it flushes the journal and releases the answers that became durable. Snapshots and
 * queries run between batches, after the flush. Everything here runs on the business-logic thread, except
 * {@link #recover()}, which runs before that thread starts.
 */
final class BusinessLogic implements Agent, EventPoller.Handler<CommandSlot>
{
    private static final Logger LOG = LoggerFactory.getLogger(BusinessLogic.class);
    private static final int SNAPSHOT_MAGIC = 0x504E534B; // "KSNP"
    private static final int SNAPSHOT_FORMAT_VERSION = 2;
    private static final int REPLAY_POLL_LIMIT = 4096;

    private final EngineContext ctx;
    private final Domain domain;
    private final CommandHandler handler;
    private final Journal journal;
    private final JournalAppender appender;
    private final StreamIndex streamIndex;
    private final SnapshotStore snapshotStore;
    private final ExecutorService snapshotWriter;
    private final EventPoller<CommandSlot> poller;
    private final UnsafeBuffer slotBytes;
    private final int maxCommandLength;
    private final int ringMask;
    private final int maxBatchSize;
    private long epoch; // changes when a follower is promoted (Engine.lead)
    private final EpochNanoClock clock;
    private final EngineCounters counters;
    private final EngineErrors errors;
    private final java.util.function.LongUnaryOperator releaseGate;
    private final java.util.function.Supplier<String> availability;
    private final ReplicaState replica;
    private String refusal;

    private final Streams streams;
    private final Decision decision;
    private final IdempotencyWindow window;
    private final PendingResponses pending;
    private final CommandResult result = new CommandResult();
    private final TypeRegistry.Decoder<Command> commandDecoder;
    private final TypeRegistry.Decoder<Event> eventDecoder;
    private final Bytes<Void> commandBytes;
    private final UnsafeBuffer commandView;
    private final Bytes<Void> eventReadBytes;
    private final UnsafeBuffer eventReadView;
    private final int eventReadCapacity;
    private final Bytes<ByteBuffer> snapshotBytes;
    private final UnsafeBuffer windowView = new UnsafeBuffer(0, 0);
    private final AtomicBoolean snapshotInFlight = new AtomicBoolean();
    private volatile boolean retentionDue;
    private final List<CompletableFuture<Long>> snapshotRequests = new ArrayList<>();
    private final List<Consumer<BusinessLogic>> controls = new ArrayList<>();
    private final io.keel.journal.FrameHandler replayHandler = this::replayFrame;

    private int batchCount;
    private long lastTimestampNs;
    private long lastRequiredPosition;
    private long eventsSinceSnapshot;
    private long lastSnapshotTimeNs;
    private String failure;

    // replay state
    private int replayGroupEvents;

    BusinessLogic(
        final EngineContext ctx,
        final Journal journal,
        final EventPoller<CommandSlot> poller,
        final UnsafeBuffer slotBytes,
        final EngineCounters counters,
        final EngineErrors errors,
        final SnapshotStore snapshotStore,
        final ExecutorService snapshotWriter)
    {
        this.ctx = ctx;
        this.domain = ctx.domain();
        this.handler = domain.handler();
        this.journal = journal;
        this.appender = journal.appender();
        this.streamIndex = journal.streamIndex();
        this.poller = poller;
        this.slotBytes = slotBytes;
        this.maxCommandLength = ctx.maxCommandLengthBytes();
        this.ringMask = ctx.ringSize() - 1;
        this.maxBatchSize = ctx.maxBatchSize();
        this.epoch = 0 == ctx.epoch() ? Math.max(1, journal.lastEpoch()) : ctx.epoch();
        this.clock = ctx.clock();
        this.counters = counters;
        this.errors = errors;
        this.releaseGate = ctx.releaseGate();
        this.availability = ctx.availability();
        this.replica = new ReplicaState(ctx.startAsFollower());
        this.snapshotStore = snapshotStore;
        this.snapshotWriter = snapshotWriter;

        streams = new Streams(domain);
        decision = new Decision(domain.events(), streams, ctx.maxEventsPerCommand(),
            ctx.maxEventBytesPerCommand());
        window = new IdempotencyWindow(ctx.idempotencyWindow());
        pending = new PendingResponses(ctx.maxPendingResponses(), counters);
        commandDecoder = new TypeRegistry.Decoder<>(domain.commands().registry);
        eventDecoder = new TypeRegistry.Decoder<>(domain.events().registry);
        commandBytes = Bytes.allocateDirect(maxCommandLength);
        commandBytes.singleThreadedCheckDisabled(true);
        commandView = new UnsafeBuffer(commandBytes.addressForRead(0), maxCommandLength);
        eventReadCapacity = Math.max(ctx.maxEventBytesPerCommand(), ctx.journalContext().maxFrameLengthBytes());
        eventReadBytes = Bytes.allocateDirect(eventReadCapacity);
        eventReadBytes.singleThreadedCheckDisabled(true);
        eventReadView = new UnsafeBuffer(eventReadBytes.addressForRead(0), eventReadCapacity);
        // sized up front for a full idempotency window plus room for aggregates: the first snapshot then
        // neither grows the buffer nor faults its pages in while the business thread waits
        final long windowBytes = (long)ctx.idempotencyWindow() * 56 + (1 << 20);
        snapshotBytes = Bytes.elasticByteBuffer((int)Math.min(windowBytes, 256L << 20));
        snapshotBytes.singleThreadedCheckDisabled(true);
        lastTimestampNs = journal.lastTimestampNs();
        if (epoch < journal.lastEpoch())
        {
            throw new IllegalArgumentException("epoch = " + epoch + " is lower than the journal's last epoch " +
                journal.lastEpoch());
        }
    }

    @Override
    public String roleName()
    {
        return "keel-business-logic";
    }

    // ------------------------------------------------------------------------------------------------ recovery

    /**
     * Load the newest usable snapshot and replay the journal after it. Runs before the business thread starts.
     */
    void recover()
    {
        final long startNs = System.nanoTime();
        long from = journal.startPosition();
        final long end = journal.committedPosition();
        boolean loadedSnapshot = false;
        if (null != snapshotStore)
        {
            final List<Path> files = snapshotStore.list();
            for (int i = files.size() - 1; i >= 0; i--)
            {
                final Path file = files.get(i);
                try
                {
                    final Snapshot snapshot = snapshotStore.read(file);
                    if (snapshot.logPosition() > end)
                    {
                        // the journal tail it covers is gone (lost unsynced bytes, a truncation): once the journal
                        // grows past this position again with other commands, the snapshot would silently load
                        // state and remembered commands the journal does not hold. Retire it now.
                        LOG.warn("snapshot {} at position {} is beyond the journal's end {}: retired to {}", file,
                            snapshot.logPosition(), end, snapshotStore.retire(file));
                        continue;
                    }
                    if (snapshot.logPosition() < journal.startPosition())
                    {
                        LOG.warn("snapshot {} at position {} is outside the journal [{}, {}]: not used", file,
                            snapshot.logPosition(), journal.startPosition(), end);
                        continue;
                    }
                    loadSnapshot(snapshot.payload());
                    from = snapshot.logPosition();
                    loadedSnapshot = true;
                    LOG.info("loaded snapshot {} at position {}: {} aggregates, {} remembered commands", file,
                        from, streams.size(), window.size());
                    break;
                }
                catch (final JournalException | IllegalArgumentException | IllegalStateException ex)
                {
                    LOG.warn("snapshot {} is unusable ({}); trying an older one", file, ex.getMessage());
                    counters.errors.incrementAndGet();
                    clearState();
                }
            }
        }

        if (journal.streamIndex().isPartial() && !loadedSnapshot)
        {
            throw new JournalException("journal " + journal.dir() + " starts at position " + journal.startPosition() +
                " (older segments were deleted by retention, or a snapshot was installed) but no usable snapshot at " +
                "or after it is in " + (null == snapshotStore ? "(no snapshot store)" : snapshotStore.dir()) +
                ": the state before that position cannot be rebuilt. Restore the snapshot, or the deleted segments");
        }
        long replayed = 0;
        try (JournalReader reader = journal.reader(from))
        {
            int n;
            while ((n = reader.poll(this::replayFrame, REPLAY_POLL_LIMIT)) > 0)
            {
                replayed += n;
            }
            if (reader.position() != end)
            {
                throw new IllegalStateException("replay stopped at " + reader.position() + ", journal ends at " + end);
            }
        }
        lastRequiredPosition = end;
        replica.appliedPosition.set(end);
        counters.durablePosition.set(journal.durablePosition());
        counters.replayedEvents.set(replayed);
        counters.replayNs.set(System.nanoTime() - startNs);
        lastSnapshotTimeNs = System.nanoTime();
        LOG.info("recovered from position {} to {}: replayed {} events in {} ms", from, end, replayed,
            (System.nanoTime() - startNs) / 1_000_000);
    }

    private void replayFrame(final JournalFrame frame)
    {
        if (CommandRejected.TYPE_ID == frame.type())
        {
            replayOutcome(frame);
            return;
        }
        final Event event = decodeEvent(frame.type(), frame.buffer(), frame.payloadOffset(), frame.payloadLength());
        if (null == event)
        {
            throw new IllegalStateException("journal frame at position " + frame.position() + " has event type " +
                frame.type() + ", which this domain does not register");
        }
        applyEvent(frame.streamId(), frame.streamVersion(), event);
        replayGroupEvents++;
        if (frame.timestampNs() > lastTimestampNs)
        {
            lastTimestampNs = frame.timestampNs();
        }
        if (frame.isEndOfGroup())
        {
            if (IdempotencyWindow.NOT_FOUND == window.find(frame.clientId(), frame.commandId()))
            {
                window.put(frame.clientId(), frame.commandId(), IdempotencyWindow.ACCEPTED, null, frame.nextPosition(),
                    replayGroupEvents, 0, 0, null);
            }
            replayGroupEvents = 0;
            eventsSinceSnapshot = 0;
        }
    }

    /**
     * A {@link CommandRejected} frame: remember the outcome, apply nothing. Allocates only for a failed command's
     * error text (and a rejection code this process does not define).
     */
    private void replayOutcome(final JournalFrame frame)
    {
        if (FrameDescriptor.NO_STREAM != frame.streamId() || !frame.isEndOfGroup() || 0 != replayGroupEvents)
        {
            throw new IllegalStateException("CommandRejected frame at position " + frame.position() +
                " is not a group of its own without a stream (stream " + frame.streamId() + ", end of group " +
                frame.isEndOfGroup() + ", " + replayGroupEvents + " events before it)");
        }
        final DirectBuffer buffer = frame.buffer();
        final int offset = frame.payloadOffset();
        final int detailLength = CommandRejected.detailLength(buffer, offset, frame.payloadLength());
        if (frame.timestampNs() > lastTimestampNs)
        {
            lastTimestampNs = frame.timestampNs();
        }
        if (IdempotencyWindow.NOT_FOUND == window.find(frame.clientId(), frame.commandId()))
        {
            final int code = CommandRejected.code(buffer, offset);
            if (CommandRejected.FAILED == code)
            {
                window.put(frame.clientId(), frame.commandId(), IdempotencyWindow.FAILED, null, frame.nextPosition(), 0,
                    0, 0, buffer.getStringWithoutLengthUtf8(offset + CommandRejected.FIXED_LENGTH, detailLength));
            }
            else
            {
                window.put(frame.clientId(), frame.commandId(), IdempotencyWindow.REJECTED, Rejection.of(code),
                    frame.nextPosition(), 0, CommandRejected.expectedVersion(buffer, offset),
                    CommandRejected.actualVersion(buffer, offset), null);
            }
        }
        eventsSinceSnapshot = 0;
    }

    private void clearState()
    {
        streams.clear();
        window.clear();
    }

    private void loadSnapshot(final ByteBuffer payload)
    {
        clearState();
        // copy to the heap: Chronicle would try to free a wrapped direct buffer it does not own
        final byte[] copy = new byte[payload.remaining()];
        payload.duplicate().get(copy);
        final Bytes<byte[]> in = Bytes.wrapForRead(copy);
        try
        {
            if (in.readRemaining() < 8 || in.readInt() != SNAPSHOT_MAGIC)
            {
                throw new IllegalArgumentException("not an engine snapshot (bad magic)");
            }
            final int version = in.readInt();
            if (version != SNAPSHOT_FORMAT_VERSION)
            {
                throw new IllegalArgumentException("engine snapshot format " + version + ", expected " +
                    SNAPSHOT_FORMAT_VERSION);
            }
            in.readLong(); // log position, also in the file header
            lastTimestampNs = Math.max(lastTimestampNs, in.readLong());
            final int count = in.readInt();
            for (int i = 0; i < count; i++)
            {
                final long streamId = in.readLong();
                final long streamVersion = in.readLong();
                final int length = in.readInt();
                final long start = in.readPosition();
                final long limit = in.readLimit();
                in.readLimit(start + length);
                final Aggregate aggregate = domain.newAggregate(streamId);
                aggregate.readMarshallable(in);
                if (in.readRemaining() != 0)
                {
                    throw new IllegalArgumentException("aggregate of stream " + streamId + " left " +
                        in.readRemaining() + " of " + length + " bytes unread");
                }
                in.readLimit(limit);
                final long indexed = streamIndex.version(streamId);
                final boolean notRetained = 0 == indexed && streamIndex.isPartial();
                if (streamVersion < 1 || (streamVersion > indexed && !notRetained) ||
                    streamVersion < streamIndex.firstIndexedVersion(streamId) - 1)
                {
                    throw new IllegalArgumentException("stream " + streamId + " is at version " + streamVersion +
                        " in the snapshot but " + indexed + " in the journal (first retained version " +
                        streamIndex.firstIndexedVersion(streamId) + ")");
                }
                // a stream whose whole history is gone stays unknown to the (partial) index until its next event:
                // the index is written only by the thread that appends, and the snapshot holds its version
                streams.put(streamId, aggregate, streamVersion);
            }
            in.readSkip(window.readFrom(new UnsafeBuffer(copy), (int)in.readPosition()));
            if (in.readRemaining() != 0)
            {
                throw new IllegalArgumentException(in.readRemaining() + " trailing bytes");
            }
        }
        catch (final RuntimeException ex)
        {
            clearState();
            throw new IllegalArgumentException("engine snapshot does not decode: " + ex.getMessage(), ex);
        }
        finally
        {
            in.releaseLast();
        }
    }

    // ------------------------------------------------------------------------------------------------ duty cycle

    @Override
    public int doWork()
    {
        if (null != failure)
        {
            return drainAfterFailure();
        }
        int work = 0;
        batchCount = 0;
        refusal = replica.leading() ? availability.get() : Availability.NOT_PRIMARY;
        if (pending.remaining() >= maxBatchSize)
        {
            try
            {
                poller.poll(this);
            }
            catch (final Throwable ex)
            {
                fail("business-logic processing failed", ex);
                return 1;
            }
            if (batchCount > 0)
            {
                work += batchCount;
                if (replica.leading())
                {
                    endOfBatch();
                }
            }
        }
        if (null != refusal && pending.size() > 0)
        {
            work += refusePending();
        }
        else if (0 == batchCount && pending.size() > 0)
        {
            // answers wait for a position that became durable (or, with replication, acknowledged) since
            work += pending.release(releasePosition(journal.durablePosition()), result, errors);
        }
        work += followJournal();
        work += runControls();
        if (replica.leading())
        {
            work += snapshotIfDue();
            work += applyRetention();
        }
        return work;
    }

    @Override
    public boolean onEvent(final CommandSlot slot, final long sequence, final boolean endOfBatch)
    {
        try
        {
            if (CommandSlot.COMMAND == slot.kind)
            {
                if (null != failure)
                {
                    answerFailed(slot, failure);
                }
                else if (null != refusal)
                {
                    refuse(slot, refusal);
                }
                else
                {
                    process(slot, (int)(sequence & ringMask) * maxCommandLength);
                }
            }
            else
            {
                controls.add(slot.control);
            }
        }
        catch (final Throwable ex)
        {
            // journal or apply failure (EngineFailure), or a broken invariant: state and journal may no longer
            // agree, so stop deciding; the journal is the truth a restart recovers from
            fail(ex instanceof EngineFailure ? ex.getMessage() : "business-logic invariant broken", ex);
            answerFailed(slot, failure);
        }
        finally
        {
            slot.clearReferences();
        }
        return ++batchCount < maxBatchSize;
    }

    private void endOfBatch()
    {
        increment(counters.batches);
        if (null != failure)
        {
            return;
        }
        final long durable;
        try
        {
            durable = appender.flush();
        }
        catch (final RuntimeException ex)
        {
            fail("journal flush failed", ex);
            return;
        }
        counters.durablePosition.lazySet(durable);
        pending.release(releasePosition(durable), result, errors);
    }

    private long releasePosition(final long durable)
    {
        final long gated = releaseGate.applyAsLong(durable);
        return Math.min(gated, durable);
    }

    // ------------------------------------------------------------------------------------------------ one command

    private void process(final CommandSlot slot, final int bytesOffset)
    {
        increment(counters.commands);
        final long clientId = slot.clientId;
        final long commandId = slot.commandId;

        final int entry = window.find(clientId, commandId);
        if (IdempotencyWindow.NOT_FOUND != entry)
        {
            increment(counters.duplicates);
            answerFromWindow(slot, entry);
            return;
        }

        final Command command;
        try
        {
            command = decodeCommand(slot.commandType, bytesOffset, slot.length);
        }
        catch (final RuntimeException ex)
        {
            reject(slot, Rejection.MALFORMED_COMMAND, 0, 0);
            return;
        }
        if (null == command)
        {
            reject(slot, Rejection.UNKNOWN_COMMAND, 0, 0);
            return;
        }

        if (Engine.ANY_VERSION != slot.expectedVersion)
        {
            final long actual = streams.version(slot.expectedStreamId);
            if (actual != slot.expectedVersion)
            {
                reject(slot, Rejection.VERSION_CONFLICT, slot.expectedVersion, actual);
                return;
            }
        }

        final long timestampNs = nextTimestamp();
        decision.reset(clientId, commandId, timestampNs);
        try
        {
            handler.handle(command, decision);
        }
        catch (final VirtualMachineError error)
        {
            throw error;
        }
        catch (final Throwable ex)
        {
            errors.record(ex);
            // the journaled, bounded form: a retry after a restart gets the same text
            final byte[] detail = CommandRejected.detailBytes(ex.toString());
            final String error = new String(detail, java.nio.charset.StandardCharsets.UTF_8);
            increment(counters.failed);
            final long end = journalOutcome(clientId, commandId, CommandRejected.FAILED, 0, 0, detail);
            window.put(clientId, commandId, IdempotencyWindow.FAILED, null, end, 0, 0, 0, error);
            enqueue(slot, CommandResult.Status.FAILED, null, 0, 0, 0, 0, false, error, end);
            return;
        }

        final Rejection rejection = decision.rejection();
        if (null != rejection)
        {
            reject(slot, rejection, 0, 0);
            return;
        }

        final int eventCount = decision.eventCount();
        if (0 == eventCount)
        {
            increment(counters.accepted);
            window.put(clientId, commandId, IdempotencyWindow.ACCEPTED, null, 0, 0, 0, 0, null);
            enqueue(slot, CommandResult.Status.ACCEPTED, null, 0, 0, 0, 0, false, null, lastRequiredPosition);
            return;
        }

        journalDecision(clientId, commandId, timestampNs, eventCount);
        applyDecision(eventCount);

        final long end = appender.position();
        increment(counters.accepted);
        add(counters.events, eventCount);
        eventsSinceSnapshot += eventCount;
        window.put(clientId, commandId, IdempotencyWindow.ACCEPTED, null, end, eventCount, 0, 0, null);
        enqueue(slot, CommandResult.Status.ACCEPTED, null, 0, 0, end, eventCount, false, null, end);
    }

    private void journalDecision(final long clientId, final long commandId, final long timestampNs, final int count)
    {
        final UnsafeBuffer events = decision.eventBuffer();
        try
        {
            for (int i = 0; i < count; i++)
            {
                final int length = decision.length(i);
                final int offset = appender.claim(epoch, timestampNs, clientId, commandId, decision.streamId(i),
                    decision.version(i), decision.type(i), length);
                appender.buffer().putBytes(offset, events, decision.offset(i), length);
                appender.commit(i == count - 1);
            }
        }
        catch (final RuntimeException ex)
        {
            try
            {
                appender.abortGroup();
            }
            catch (final RuntimeException abortEx)
            {
                ex.addSuppressed(abortEx);
            }
            throw new EngineFailure("cannot journal the events of " + clientId + ":" + commandId, ex);
        }
    }

    /**
     * Journal the outcome of a rejected or failed command as one {@link CommandRejected} frame, so the idempotency
     * window can be rebuilt with it after a crash or on a standby. No allocation.
     *
     * @return the journal position after the frame: the answer is released once it is durable.
     */
    private long journalOutcome(final long clientId, final long commandId, final int code, final long expected,
        final long actual, final byte[] detail)
    {
        final int length = CommandRejected.FIXED_LENGTH + (null == detail ? 0 : detail.length);
        try
        {
            final int offset = appender.claim(epoch, nextTimestamp(), clientId, commandId, FrameDescriptor.NO_STREAM, 0,
                CommandRejected.TYPE_ID, length);
            CommandRejected.encode(appender.buffer(), offset, code, expected, actual, detail);
            appender.commit(true);
        }
        catch (final RuntimeException ex)
        {
            try
            {
                appender.abortGroup();
            }
            catch (final RuntimeException abortEx)
            {
                ex.addSuppressed(abortEx);
            }
            throw new EngineFailure("cannot journal the outcome of " + clientId + ":" + commandId, ex);
        }
        return appender.position();
    }

    private void applyDecision(final int count)
    {
        final UnsafeBuffer events = decision.eventBuffer();
        for (int i = 0; i < count; i++)
        {
            final Event event = decodeEvent(decision.type(i), events, decision.offset(i), decision.length(i));
            try
            {
                applyEvent(decision.streamId(i), decision.version(i), event);
            }
            catch (final RuntimeException | AssertionError ex)
            {
                throw new EngineFailure("apply of a journaled event failed: state no longer matches the journal", ex);
            }
        }
    }

    private void applyEvent(final long streamId, final long version, final Event event)
    {
        final Streams.State state = streams.stateOrCreate(streamId);
        if (version != state.version + 1)
        {
            throw new IllegalStateException("stream " + streamId + " event version " + version + " does not follow " +
                state.version);
        }
        state.aggregate.apply(event);
        state.version = version;
        assert version <= streamIndex.version(streamId) : "stream " + streamId + " version " + version +
            " is ahead of the journal index " + streamIndex.version(streamId);
    }

    private Command decodeCommand(final int type, final int offset, final int length)
    {
        if (length < 0 || length > maxCommandLength)
        {
            throw new IllegalArgumentException("command length " + length);
        }
        commandView.putBytes(0, slotBytes, offset, length);
        commandBytes.readPosition(0);
        commandBytes.writePosition(length);
        return commandDecoder.decode(type, commandBytes);
    }

    private Event decodeEvent(final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > eventReadCapacity)
        {
            throw new IllegalStateException("event of " + length + " bytes exceeds " + eventReadCapacity);
        }
        eventReadView.putBytes(0, buffer, offset, length);
        eventReadBytes.readPosition(0);
        eventReadBytes.writePosition(length);
        return eventDecoder.decode(type, eventReadBytes);
    }

    private long nextTimestamp()
    {
        final long now = clock.nanoTime();
        if (now > lastTimestampNs)
        {
            lastTimestampNs = now;
        }
        return lastTimestampNs;
    }

    // ------------------------------------------------------------------------------------------------ answers

    private void reject(final CommandSlot slot, final Rejection rejection, final long expected, final long actual)
    {
        counters.onRejection(rejection);
        final long end = journalOutcome(slot.clientId, slot.commandId, rejection.code(), expected, actual, null);
        window.put(slot.clientId, slot.commandId, IdempotencyWindow.REJECTED, rejection, end, 0, expected, actual, null);
        enqueue(slot, CommandResult.Status.REJECTED, rejection, expected, actual, 0, 0, false, null, end);
    }

    private void answerFromWindow(final CommandSlot slot, final int entry)
    {
        final CommandResult.Status status;
        long position = 0; // only an accepted command's answer carries its position
        switch (window.status(entry))
        {
            case IdempotencyWindow.ACCEPTED:
                status = CommandResult.Status.ACCEPTED;
                position = window.position(entry);
                break;
            case IdempotencyWindow.REJECTED:
                status = CommandResult.Status.REJECTED;
                break;
            default:
                status = CommandResult.Status.FAILED;
                break;
        }
        // the original outcome must be durable before a retry is told it, rejections included
        enqueue(slot, status, window.rejection(entry), window.expectedVersion(entry), window.actualVersion(entry),
            position, window.eventCount(entry), true, window.error(entry),
            Math.max(lastRequiredPosition, window.position(entry)));
    }

    private void answerFailed(final CommandSlot slot, final String error)
    {
        increment(counters.failed);
        result.set(slot.clientId, slot.commandId, CommandResult.Status.FAILED, null, 0, 0, 0, 0, false, error);
        deliverNow(slot.handler, slot.future);
    }

    @SuppressWarnings("checkstyle:ParameterNumber")
    private void enqueue(
        final CommandSlot slot,
        final CommandResult.Status status,
        final Rejection rejection,
        final long expected,
        final long actual,
        final long position,
        final int eventCount,
        final boolean duplicate,
        final String error,
        final long requiredPosition)
    {
        lastRequiredPosition = Math.max(lastRequiredPosition, requiredPosition);
        pending.add(slot.clientId, slot.commandId, status, rejection, expected, actual, position, eventCount,
            duplicate, error, slot.handler, slot.future, lastRequiredPosition, slot.submitNs);
    }

    private void deliverNow(final ResponseHandler handler, final CompletableFuture<CommandOutcome> future)
    {
        try
        {
            if (null != future)
            {
                future.complete(result.toOutcome());
            }
            else if (null != handler)
            {
                handler.onResponse(result);
            }
        }
        catch (final Throwable ex)
        {
            errors.record(ex);
        }
    }

    // ------------------------------------------------------------------------------------------------ failure

    private void fail(final String what, final Throwable cause)
    {
        failure = what + ": " + cause + " (engine stopped processing; restart to recover from the journal)";
        errors.record(cause);
        LOG.error("{}", failure);
        pending.failAll("outcome unknown: " + failure, result, errors);
    }

    private int drainAfterFailure()
    {
        batchCount = 0;
        try
        {
            poller.poll(this);
        }
        catch (final Exception ex)
        {
            errors.record(ex);
        }
        pending.failAll("outcome unknown: " + failure, result, errors);
        return batchCount + runControls();
    }

    String failure()
    {
        return failure;
    }

    // ------------------------------------------------------------------------------------------------ controls

    private int runControls()
    {
        if (controls.isEmpty())
        {
            return 0;
        }
        final int count = controls.size();
        for (int i = 0; i < count; i++)
        {
            try
            {
                controls.get(i).accept(this);
            }
            catch (final Throwable ex)
            {
                errors.record(ex);
            }
        }
        controls.clear();
        return count;
    }

    void requestSnapshot(final CompletableFuture<Long> done)
    {
        snapshotRequests.add(done);
    }

    /**
     * Time-travel lookup: the version range of a stream up to a version, resolved on this thread (the stream
     * index is ours) and read by the caller.
     */
    void resolveHistory(final long streamId, final long version, final long timestampNs,
        final CompletableFuture<long[]> done)
    {
        final long current = streamIndex.version(streamId);
        final long target = timestampNs >= 0 ? streamIndex.versionAt(streamId, timestampNs) : Math.min(version, current);
        if (target <= 0)
        {
            done.complete(new long[]{0, -1, -1});
            return;
        }
        if (streamIndex.firstIndexedVersion(streamId) > 1 ||
            streamIndex.positionOf(streamId, 1) < journal.startPosition())
        {
            // replaying a state needs the stream's whole history, and its start is no longer in the journal
            done.completeExceptionally(new IllegalStateException("stream " + streamId + ": the start of its history is " +
                "no longer retained (the journal starts at " + journal.startPosition() + "); time travel is not " +
                "available for it"));
            return;
        }
        done.complete(new long[]{target, streamIndex.positionOf(streamId, 1), streamIndex.positionOf(streamId, target)});
    }

    // ------------------------------------------------------------------------------------------------ snapshots

    private int snapshotIfDue()
    {
        if (null == snapshotStore || null != failure)
        {
            return 0;
        }
        final boolean byCount = ctx.snapshotEveryEvents() > 0 && eventsSinceSnapshot >= ctx.snapshotEveryEvents();
        final boolean byTime = ctx.snapshotIntervalNs() > 0 && eventsSinceSnapshot > 0 &&
            System.nanoTime() - lastSnapshotTimeNs >= ctx.snapshotIntervalNs();
        if (!snapshotRequests.isEmpty() || byCount || byTime)
        {
            return takeSnapshot() ? 1 : 0;
        }
        return 0;
    }

    /**
     * Serialise all state on this thread (the pause), then write it on the snapshot thread.
     *
     * @return true when a snapshot was started.
     */
    private boolean takeSnapshot()
    {
        if (snapshotInFlight.get())
        {
            increment(counters.snapshotsSkipped);
            return false;
        }
        if (appender.inGroup())
        {
            throw new IllegalStateException("snapshot inside an open group");
        }
        final long startNs = System.nanoTime();
        final long logPosition = appender.position();
        assert journal.committedPosition() == logPosition : "snapshot of unflushed state";
        final Bytes<ByteBuffer> out = snapshotBytes;
        out.clear();
        out.writeInt(SNAPSHOT_MAGIC);
        out.writeInt(SNAPSHOT_FORMAT_VERSION);
        out.writeLong(logPosition);
        out.writeLong(lastTimestampNs);
        out.writeInt(streams.size());
        final Long2ObjectHashMap<Streams.State>.ValueIterator it = streams.iterator();
        while (it.hasNext())
        {
            final Streams.State state = it.next();
            out.writeLong(state.streamId);
            out.writeLong(state.version);
            final long lengthAt = out.writePosition();
            out.writeInt(0);
            state.aggregate.writeMarshallable(out);
            out.writeInt(lengthAt, (int)(out.writePosition() - lengthAt - 4));
        }
        final long windowAt = out.writePosition();
        out.ensureCapacity(windowAt + window.maxSnapshotLength());
        windowView.wrap(out.addressForWrite(windowAt), (int)(out.realCapacity() - windowAt));
        out.writeSkip(window.writeTo(windowView, 0));
        final int length = (int)out.writePosition();
        final ByteBuffer bytes = out.underlyingObject().duplicate();
        bytes.limit(length).position(0);
        final long pauseNs = System.nanoTime() - startNs;

        counters.snapshotPauseNsLast.lazySet(pauseNs);
        if (pauseNs > counters.snapshotPauseNsMax.get())
        {
            counters.snapshotPauseNsMax.lazySet(pauseNs);
        }
        counters.snapshotBytesLast.lazySet(length);
        eventsSinceSnapshot = 0;
        lastSnapshotTimeNs = System.nanoTime();

        final List<CompletableFuture<Long>> done = new ArrayList<>(snapshotRequests);
        snapshotRequests.clear();
        snapshotInFlight.set(true);
        snapshotWriter.execute(() ->
        {
            Throwable failure = null;
            try
            {
                snapshotStore.write(logPosition, bytes);
                counters.snapshots.incrementAndGet();
                if (ctx.journalRetention())
                {
                    retentionDue = true; // the business thread deletes (it owns the log)
                }
            }
            catch (final Throwable ex)
            {
                errors.record(ex);
                failure = ex;
            }
            finally
            {
                snapshotInFlight.set(false); // before answering: whoever waits may take the next one at once
            }
            for (final CompletableFuture<Long> request : done)
            {
                if (null == failure)
                {
                    request.complete(logPosition);
                }
                else
                {
                    request.completeExceptionally(failure);
                }
            }
        });
        return true;
    }

    /**
     * Journal retention, on the thread that owns the log, after a snapshot: delete the segments wholly before the
     * oldest snapshot kept. A follower's log is written by its replicator, so only the leader deletes.
     */
    private int applyRetention()
    {
        if (!retentionDue)
        {
            return 0;
        }
        // read now, not when the snapshot was written: a truncation since may have removed snapshots
        final long oldest = snapshotStore.oldestPosition();
        final long position = Math.min(Math.min(oldest, journal.committedPosition()), ctx.retentionFloor().getAsLong());
        if (oldest < 0 || position <= journal.startPosition())
        {
            retentionDue = oldest >= 0 && position < oldest; // held back by the floor: try again later
            return 0;
        }
        retentionDue = position < oldest;
        try
        {
            return journal.deleteSegmentsBefore(position);
        }
        catch (final JournalException ex)
        {
            errors.record(ex); // the log itself is intact: deletion failed, so more is kept than needed
            return 0;
        }
    }

    boolean snapshotInFlight()
    {
        return snapshotInFlight.get();
    }

    // ------------------------------------------------------------------------------------------------ close

    @Override
    public void onClose()
    {
        runControls();
        if (null == failure && replica.leading())
        {
            try
            {
                final long durable = appender.flush();
                counters.durablePosition.lazySet(durable);
                pending.release(releasePosition(durable), result, errors);
                if (ctx.snapshotOnClose() && null != snapshotStore && !snapshotInFlight.get())
                {
                    takeSnapshot();
                }
            }
            catch (final RuntimeException ex)
            {
                fail("final journal flush failed", ex);
            }
        }
        pending.failAll("engine closed before the answer could be released", result, errors);
        for (final CompletableFuture<Long> request : snapshotRequests)
        {
            request.completeExceptionally(new IllegalStateException("engine closed"));
        }
        snapshotRequests.clear();
    }

    /**
     * Answer a slot that was published but never processed (the engine closed first). Caller thread, after
     * the business thread stopped.
     */
    void answerUnprocessed(final CommandSlot slot)
    {
        if (CommandSlot.COMMAND == slot.kind)
        {
            result.set(slot.clientId, slot.commandId, CommandResult.Status.FAILED, null, 0, 0, 0, 0, false,
                "engine closed before processing the command");
            deliverNow(slot.handler, slot.future);
        }
        slot.clearReferences();
    }

    void releaseResources(final boolean snapshotWriterDone)
    {
        decision.close();
        commandBytes.releaseLast();
        eventReadBytes.releaseLast();
        if (snapshotWriterDone)
        {
            snapshotBytes.releaseLast();
        }
    }

    // ------------------------------------------------------------------------------------------------ replica roles

    private void refuse(final CommandSlot slot, final String reason)
    {
        replica.refusedCommands.lazySet(replica.refusedCommands.get() + 1);
        result.set(slot.clientId, slot.commandId, CommandResult.Status.FAILED, null, 0, 0, 0, 0, false, reason);
        deliverNow(slot.handler, slot.future);
    }

    /** Release what the gate still allows, then fail the rest with the refusal: they cannot be released now. */
    private int refusePending()
    {
        final int released = pending.release(releasePosition(journal.durablePosition()), result, errors);
        return released + pending.failAll(refusal, result, errors);
    }

    /** Follower: apply the groups the replication layer appended since the last call. */
    private int followJournal()
    {
        if (!replica.following())
        {
            return 0;
        }
        if (null == replica.reader)
        {
            replica.reader = journal.reader(replica.appliedPosition.get());
        }
        final int frames;
        try
        {
            frames = replica.reader.poll(replayHandler, REPLAY_POLL_LIMIT);
        }
        catch (final RuntimeException ex)
        {
            fail("follower could not apply the replicated journal", ex);
            return 1;
        }
        if (frames > 0)
        {
            replica.appliedPosition.lazySet(replica.reader.position());
        }
        return frames;
    }

    /** Control: a follower becomes the leader in a new epoch, starting after everything its journal holds. */
    void lead(final long newEpoch, final boolean rebuild, final long maxSnapshotPosition,
        final CompletableFuture<Long> done)
    {
        if (replica.leading())
        {
            done.completeExceptionally(new IllegalStateException("already leading in epoch " + epoch));
            return;
        }
        try
        {
            if (newEpoch < epoch)
            {
                throw new IllegalArgumentException("epoch " + newEpoch + " is below the current " + epoch);
            }
            if (rebuild)
            {
                rebuild(maxSnapshotPosition);
            }
            if (null == replica.reader)
            {
                replica.reader = journal.reader(replica.appliedPosition.get());
            }
            while (replica.reader.poll(replayHandler, REPLAY_POLL_LIMIT) > 0)
            {
                // catch up with everything the replication layer appended before it handed the appender over
            }
            final long end = journal.committedPosition();
            final long applied = replica.reader.position();
            replica.closeReader();
            replica.appliedPosition.set(applied);
            if (applied != end || appender.position() != end || 0 != replayGroupEvents)
            {
                throw new IllegalStateException("cannot lead: applied " + applied + " but the journal ends at " + end +
                    " (appender at " + appender.position() + ", " + replayGroupEvents + " events of an open group)");
            }
            assert 0 == pending.size() : pending.size() + " answers waiting in a follower about to lead";
            epoch = newEpoch;
            // from the log's end, not above it: a follower has no answer waiting, and what it remembers from before
            // may lie beyond a tail cut since (recovery sets it to the journal's end at start, which for a killed
            // ASYNC primary includes the tail its standby never had); answers would wait until the log grew past it
            lastRequiredPosition = end;
            lastTimestampNs = Math.max(lastTimestampNs, journal.lastTimestampNs());
            lastSnapshotTimeNs = System.nanoTime();
            eventsSinceSnapshot = 0;
            counters.durablePosition.lazySet(journal.durablePosition());
            replica.mode(ReplicaState.LEADING);
            LOG.info("leading in epoch {} from position {} ({} aggregates, {} remembered commands)", newEpoch, end,
                streams.size(), window.size());
            done.complete(end);
        }
        catch (final RuntimeException ex)
        {
            replica.mode(ReplicaState.HALTED);
            done.completeExceptionally(ex);
        }
    }

    /**
     * Control: the leader learnt of a newer epoch. Stop appending, fail every waiting answer with NOT_PRIMARY
     * (their fate is decided by the new primary's log), and hand the appender back.
     */
    void stepDown(final Runnable releaseAppender, final CompletableFuture<Long> done)
    {
        if (!replica.leading())
        {
            done.complete(replica.appliedPosition.get());
            return;
        }
        replica.mode(ReplicaState.HALTED);
        refusal = Availability.NOT_PRIMARY;
        while (snapshotInFlight.get())
        {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000); // its file must not outlive a truncation
        }
        pending.failAll(Availability.NOT_PRIMARY, result, errors);
        if (appender.inGroup())
        {
            appender.abortGroup();
        }
        replica.appliedPosition.set(appender.position());
        try
        {
            releaseAppender.run();
            LOG.info("stepped down from epoch {} at position {}", epoch, replica.appliedPosition.get());
            done.complete(replica.appliedPosition.get());
        }
        catch (final RuntimeException ex)
        {
            done.completeExceptionally(ex);
        }
    }

    /** Control: stop applying (the log may be truncated next); resume with {@link #follow}. */
    void haltFollowing(final CompletableFuture<Long> done)
    {
        if (replica.leading())
        {
            done.completeExceptionally(new IllegalStateException("leading: step down instead"));
            return;
        }
        replica.closeReader();
        replica.mode(ReplicaState.HALTED);
        done.complete(replica.appliedPosition.get());
    }

    /** Control: follow the journal again, first rebuilding the state when the log was truncated meanwhile. */
    void follow(final boolean rebuild, final long maxSnapshotPosition, final CompletableFuture<Long> done)
    {
        if (replica.leading())
        {
            done.completeExceptionally(new IllegalStateException("leading: step down first"));
            return;
        }
        try
        {
            replica.closeReader();
            if (rebuild)
            {
                rebuild(maxSnapshotPosition);
            }
            replica.mode(ReplicaState.FOLLOWING);
            done.complete(replica.appliedPosition.get());
        }
        catch (final RuntimeException ex)
        {
            fail("follower could not rebuild its state", ex);
            done.completeExceptionally(ex);
        }
    }

    /**
     * Forget all state and load the newest snapshot at or below both the journal's end and
     * {@code maxSnapshotPosition}; the journal after it is applied by the follower's reader.
     */
    private void rebuild(final long maxSnapshotPosition)
    {
        replica.closeReader();
        clearState();
        replayGroupEvents = 0;
        long from = journal.startPosition();
        final long limit = Math.min(maxSnapshotPosition, journal.committedPosition());
        boolean loaded = false;
        if (null != snapshotStore)
        {
            final List<Path> files = snapshotStore.list();
            for (int i = files.size() - 1; i >= 0; i--)
            {
                try
                {
                    final Snapshot snapshot = snapshotStore.read(files.get(i));
                    if (snapshot.logPosition() > limit || snapshot.logPosition() < journal.startPosition())
                    {
                        continue;
                    }
                    loadSnapshot(snapshot.payload());
                    from = snapshot.logPosition();
                    loaded = true;
                    break;
                }
                catch (final JournalException | IllegalArgumentException | IllegalStateException ex)
                {
                    LOG.warn("snapshot {} is unusable ({}); trying an older one", files.get(i), ex.getMessage());
                    clearState();
                }
            }
        }
        if (journal.streamIndex().isPartial() && !loaded)
        {
            throw new IllegalStateException("journal " + journal.dir() + " starts at " + journal.startPosition() +
                " and no usable snapshot at or after it (up to " + limit + ") is kept: state cannot be rebuilt");
        }
        replica.appliedPosition.set(from);
        replica.rebuilds.incrementAndGet();
        LOG.info("rebuilding state from position {} (snapshots above {} ignored)", from, limit);
    }

    ReplicaState replica()
    {
        return replica;
    }

    long epoch()
    {
        return epoch;
    }

    // ------------------------------------------------------------------------------------------------ inspection

    /**
     * @return the live aggregates: business thread only, or after the engine stopped.
     */
    Streams aggregates()
    {
        return streams;
    }

    /**
     * Raised on the business thread when the journal and state can no longer be kept in step.
     */
    static final class EngineFailure extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        EngineFailure(final String message, final Throwable cause)
        {
            super(message, cause);
        }
    }
}
