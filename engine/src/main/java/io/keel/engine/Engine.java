package io.keel.engine;

import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.YieldingWaitStrategy;
import io.keel.journal.Journal;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import io.keel.journal.SnapshotStore;
import net.openhft.chronicle.bytes.Bytes;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The embedded engine: a multi-producer Disruptor ring feeding one business-logic thread that decides, journals
 * and applies commands, then answers once their events are durable.
 *
 * <pre>{@code
 * try (Engine engine = Engine.launch(new EngineContext().domain(ledger).journalContext(journal)))
 * {
 *     engine.submit(clientId, commandId, command).thenAccept(outcome -> ...);
 * }
 * }</pre>
 *
 * Start-up loads the newest valid snapshot and replays the journal after it. {@link #close()} stops taking
 * commands, drains the ring, flushes the journal and answers everything. All methods are safe from any thread.
 */
public final class Engine implements AutoCloseable
{
    /** Expected version meaning "no expectation". */
    public static final long ANY_VERSION = -1;

    /**
     * What {@link #trySubmit} did.
     */
    public enum Submit
    {
        /** In the ring: the handler will be called exactly once. */
        SUBMITTED,
        /** The ring is full: back off and retry, nothing was queued. */
        RING_FULL,
        /** The engine is closed: nothing was queued. */
        CLOSED,
        /** The encoded command exceeds {@link EngineContext#maxCommandLengthBytes()}: nothing was queued. */
        TOO_LARGE
    }

    private static final long HOST_DETACH_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    private final EngineContext ctx;
    private final Journal journal;
    private final RingBuffer<CommandSlot> ring;
    private final Sequence consumed;
    private final UnsafeBuffer slotBytes;
    private final int maxCommandLength;
    private final int ringMask;
    private final CommandCodecs commandCodecs;
    private final EngineCounters counters;
    private final EngineErrors errors;
    private final ExecutorService snapshotWriter;
    private final BusinessLogic logic;
    private final AgentRunner runner;
    private final AgentInvoker invoker;
    private volatile boolean hostDetachRequested;
    private volatile boolean hostDetached;
    private final ThreadLocal<ProducerScratch> scratch;
    private final boolean recordLatency;
    private volatile boolean closed;
    private boolean resourcesClosed;

    private Engine(final EngineContext ctx)
    {
        this.ctx = ctx;
        this.maxCommandLength = ctx.maxCommandLengthBytes();
        this.ringMask = ctx.ringSize() - 1;
        this.commandCodecs = ctx.domain().commands();
        this.counters = new EngineCounters(ctx.countersManager(), ctx.recordLatency());
        this.recordLatency = ctx.recordLatency();
        this.errors = new EngineErrors(counters, ctx.errorHandler(), ctx.errorLog());
        this.scratch = ThreadLocal.withInitial(() -> new ProducerScratch(maxCommandLength));

        journal = Journal.open(ctx.journalContext());
        ExecutorService writer = null;
        BusinessLogic business = null;
        try
        {
            slotBytes = new UnsafeBuffer(ByteBuffer.allocateDirect(ctx.ringSize() * maxCommandLength));
            ring = RingBuffer.createMultiProducer(CommandSlot::new, ctx.ringSize(), new YieldingWaitStrategy());
            final EventPoller<CommandSlot> poller = ring.newPoller();
            consumed = poller.getSequence();
            ring.addGatingSequences(consumed);

            final SnapshotStore store = SnapshotStore.open(ctx.snapshotDir(), ctx.snapshotRetainCount());
            writer = Executors.newSingleThreadExecutor(r ->
            {
                final Thread thread = new Thread(r, "keel-snapshot-writer");
                thread.setDaemon(true);
                return thread;
            });
            business = new BusinessLogic(ctx, journal, poller, slotBytes, counters, errors, store, writer);
            business.recover();
        }
        catch (final RuntimeException ex)
        {
            if (null != writer)
            {
                writer.shutdownNow();
            }
            if (null != business)
            {
                business.releaseResources(false); // a writer may have started: do not free its buffer
            }
            CloseHelper.quietClose(journal);
            throw ex;
        }
        snapshotWriter = writer;
        logic = business;
        if (ctx.invoked())
        {
            runner = null;
            invoker = new AgentInvoker(errors, null, logic);
        }
        else
        {
            runner = new AgentRunner(ctx.idleStrategy(), errors, null, logic);
            invoker = null;
        }
    }

    /**
     * Open the journal, recover state (newest valid snapshot + replay) and start the business-logic thread.
     *
     * @param ctx configuration; concluded here.
     * @return the running engine.
     */
    public static Engine launch(final EngineContext ctx)
    {
        final Engine engine = new Engine(ctx.conclude());
        if (null != engine.invoker)
        {
            engine.invoker.start();
        }
        else
        {
            AgentRunner.startOnThread(engine.runner, r ->
            {
                final Thread thread = new Thread(r, "keel-business-logic");
                thread.setDaemon(true);
                return thread;
            });
        }
        return engine;
    }

    /**
     * One duty cycle of the business logic, on the host's thread, for an engine launched with
     * {@link EngineContext#invoked(boolean)}: drain what the ring holds, decide, journal, apply, answer. Only one
     * thread may call it. Allocates nothing.
     *
     * @return work done (0 when idle, so the host's idle strategy may back off).
     */
    public int invoke()
    {
        if (hostDetachRequested)
        {
            hostDetached = true; // close() takes over the duty cycle from here
            return 0;
        }
        return invoker.invoke();
    }

    /**
     * Invoked mode: take the business logic back from the host before the host stops cycling (a node whose gateway
     * thread also runs replication stops that thread before closing the engine). The host acknowledges on its next
     * {@link #invoke()}, so it must still be cycling; from then on only {@link #close()} runs the business logic, on
     * the closing thread. No-op for an engine with a thread of its own, or once detached.
     *
     * @throws IllegalStateException when the host does not hand over within 30 s (the business logic is then not
     *                               run here: never two threads in it).
     */
    public void detachFromHost()
    {
        if (null == invoker || hostDetached)
        {
            return;
        }
        hostDetachRequested = true;
        final long deadlineNs = System.nanoTime() + HOST_DETACH_TIMEOUT_NS;
        while (!hostDetached)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                // never run the business logic beside a host that may still be inside invoke(): two writers
                throw new IllegalStateException("the host did not hand the business logic back within " +
                    TimeUnit.NANOSECONDS.toSeconds(HOST_DETACH_TIMEOUT_NS) + " s: it must keep calling invoke() " +
                    "until detachFromHost() or close() returns");
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
    }

    /** @return true when a host runs the business logic through {@link #invoke()}. */
    public boolean isInvoked()
    {
        return null != invoker;
    }

    /**
     * Submit a command without allocating: the command is encoded into a ring slot before this returns, so the
     * instance may be reused at once. Never blocks.
     *
     * @param clientId  client id (part of the idempotency key).
     * @param commandId the client's command id (part of the idempotency key).
     * @param command   of a registered type.
     * @param handler   called exactly once with the answer, on the business-logic thread, when
     *                  {@link Submit#SUBMITTED} is returned.
     * @return what happened.
     */
    public Submit trySubmit(final long clientId, final long commandId, final Command command,
        final ResponseHandler handler)
    {
        return trySubmit(clientId, commandId, command, 0, ANY_VERSION, handler, null);
    }

    /**
     * Submit a command that expects a stream to be at a version (optimistic concurrency): if it is not, the
     * answer is {@link Rejection#VERSION_CONFLICT} with both versions and no events.
     *
     * @param clientId         client id.
     * @param commandId        the client's command id.
     * @param command          of a registered type.
     * @param expectedStreamId stream whose version is checked.
     * @param expectedVersion  its expected version (0 = no events yet), or {@link #ANY_VERSION}.
     * @param handler          called exactly once with the answer.
     * @return what happened.
     */
    public Submit trySubmit(final long clientId, final long commandId, final Command command,
        final long expectedStreamId, final long expectedVersion, final ResponseHandler handler)
    {
        return trySubmit(clientId, commandId, command, expectedStreamId, expectedVersion, handler, null);
    }

    /**
     * Submit an already encoded command (e.g. straight from a network buffer). Never blocks, never allocates.
     *
     * @param clientId         client id.
     * @param commandId        the client's command id.
     * @param commandType      registered command type id.
     * @param buffer           holding the encoded command.
     * @param offset           of the command in the buffer.
     * @param length           of the command.
     * @param expectedStreamId stream whose version is checked, if any.
     * @param expectedVersion  its expected version, or {@link #ANY_VERSION}.
     * @param handler          called exactly once with the answer.
     * @return what happened.
     */
    public Submit trySubmitEncoded(final long clientId, final long commandId, final int commandType,
        final DirectBuffer buffer, final int offset, final int length, final long expectedStreamId,
        final long expectedVersion, final ResponseHandler handler)
    {
        if (length < 0 || length > maxCommandLength)
        {
            return Submit.TOO_LARGE;
        }
        if (closed)
        {
            return Submit.CLOSED;
        }
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            counters.ringFull.incrementAndGet();
            return Submit.RING_FULL;
        }
        slotBytes.putBytes(slotOffset(sequence), buffer, offset, length);
        publish(sequence, clientId, commandId, commandType, length, expectedStreamId, expectedVersion, handler, null);
        return Submit.SUBMITTED;
    }

    /**
     * Submit a command and get its answer as a future (allocates the future and the answer). When the ring is
     * full or the engine is closed the future fails at once with {@link SubmitRefusedException}.
     *
     * @param clientId  client id.
     * @param commandId the client's command id.
     * @param command   of a registered type.
     * @return the answer, completed on the business-logic thread: use the {@code *Async} methods to continue
     * elsewhere.
     */
    public CompletableFuture<CommandOutcome> submit(final long clientId, final long commandId, final Command command)
    {
        return submit(clientId, commandId, command, 0, ANY_VERSION);
    }

    /**
     * Submit a command with an expected stream version and get its answer as a future.
     *
     * @param clientId         client id.
     * @param commandId        the client's command id.
     * @param command          of a registered type.
     * @param expectedStreamId stream whose version is checked.
     * @param expectedVersion  its expected version, or {@link #ANY_VERSION}.
     * @return the answer.
     */
    public CompletableFuture<CommandOutcome> submit(final long clientId, final long commandId, final Command command,
        final long expectedStreamId, final long expectedVersion)
    {
        final CompletableFuture<CommandOutcome> future = new CompletableFuture<>();
        final Submit submit = trySubmit(clientId, commandId, command, expectedStreamId, expectedVersion, null, future);
        if (Submit.SUBMITTED != submit)
        {
            future.completeExceptionally(new SubmitRefusedException(submit));
        }
        return future;
    }

    /**
     * Take a snapshot now (after the current batch).
     *
     * @return completes with the snapshot's log position once it is on disk.
     */
    public CompletableFuture<Long> snapshot()
    {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        if (!publishControl(logic -> logic.requestSnapshot(done)))
        {
            done.completeExceptionally(new SubmitRefusedException(closed ? Submit.CLOSED : Submit.RING_FULL));
        }
        return done;
    }

    /**
     * Time travel: the state of one aggregate as of a version, rebuilt from its events in the journal.
     *
     * @param streamId stream.
     * @param version  1-based version; later than the current one means the current one.
     * @return the aggregate, or empty when the stream had no events by then.
     */
    public CompletableFuture<Optional<Aggregate>> aggregateAt(final long streamId, final long version)
    {
        return history(streamId, version, -1);
    }

    /**
     * Time travel: the state of one aggregate as of a time, rebuilt from its events in the journal.
     *
     * @param streamId    stream.
     * @param timestampNs time, ns since the epoch (engine clock).
     * @return the aggregate, or empty when the stream had no events by then.
     */
    public CompletableFuture<Optional<Aggregate>> aggregateAsOf(final long streamId, final long timestampNs)
    {
        if (timestampNs < 0)
        {
            throw new IllegalArgumentException("timestampNs must be >= 0");
        }
        return history(streamId, 0, timestampNs);
    }

    /**
     * Read the current state of one aggregate on the business-logic thread and return what the reader makes
     * of it (the aggregate itself must not escape: it keeps changing).
     *
     * @param streamId stream.
     * @param reader   turns the aggregate (null when the stream has no events) into a value.
     * @param <T>      value type.
     * @return the value.
     */
    public <T> CompletableFuture<T> query(final long streamId, final java.util.function.Function<Aggregate, T> reader)
    {
        final CompletableFuture<T> done = new CompletableFuture<>();
        if (!publishControl(logic ->
        {
            try
            {
                done.complete(reader.apply(logic.aggregates().get(streamId)));
            }
            catch (final Throwable ex)
            {
                done.completeExceptionally(ex);
            }
        }))
        {
            done.completeExceptionally(new SubmitRefusedException(closed ? Submit.CLOSED : Submit.RING_FULL));
        }
        return done;
    }

    /**
     * Run a read-only visit over every aggregate on the business-logic thread (for checks and tools).
     *
     * @param visitor called once with a view of every aggregate; must not keep it or change them.
     * @param <T>     value type.
     * @return what the visitor returns.
     */
    public <T> CompletableFuture<T> inspect(final java.util.function.Function<Aggregates, T> visitor)
    {
        final CompletableFuture<T> done = new CompletableFuture<>();
        if (!publishControl(logic ->
        {
            try
            {
                done.complete(visitor.apply(logic.aggregates()));
            }
            catch (final Throwable ex)
            {
                done.completeExceptionally(ex);
            }
        }))
        {
            done.completeExceptionally(new SubmitRefusedException(closed ? Submit.CLOSED : Submit.RING_FULL));
        }
        return done;
    }

    // ------------------------------------------------------------------------------------------ replica roles

    /**
     * Replication: a follower becomes the leader in a new epoch. After the current batch the business-logic thread
     * applies whatever its journal still holds beyond what it applied (optionally rebuilding first, see
     * {@link #follow(boolean, long)}), then decides and appends commands with {@code epoch}. The caller must own
     * nothing of the journal appender any more.
     *
     * @param epoch               the new epoch, persisted by the caller before this call.
     * @param rebuild             rebuild the state first (the log was truncated since it was built).
     * @param maxSnapshotPosition ignore snapshots above this position when rebuilding.
     * @return completes with the log position the leader starts at.
     */
    public CompletableFuture<Long> lead(final long epoch, final boolean rebuild, final long maxSnapshotPosition)
    {
        return control((logic, done) -> logic.lead(epoch, rebuild, maxSnapshotPosition, done));
    }

    /**
     * Replication: the leader learnt of a newer epoch. After the current batch it stops appending, fails every
     * answer still waiting with {@link Availability#NOT_PRIMARY}, and runs {@code releaseAppender} on its thread
     * (the replication layer takes the appender back). The engine then applies nothing until
     * {@link #follow(boolean, long)}.
     *
     * @param releaseAppender hands the appender back; runs on the business-logic thread.
     * @return completes with the log position the engine's state reflects.
     */
    public CompletableFuture<Long> stepDown(final Runnable releaseAppender)
    {
        return control((logic, done) -> logic.stepDown(releaseAppender, done));
    }

    /**
     * Replication: a follower stops applying its journal (it is about to be matched with a new primary's, and
     * maybe truncated).
     *
     * @return completes with the position applied so far once the follower's reader is closed.
     */
    public CompletableFuture<Long> haltFollowing()
    {
        return control(BusinessLogic::haltFollowing);
    }

    /**
     * Replication: apply the journal as the replication layer appends to it (a hot standby).
     *
     * @param rebuild             forget the state and rebuild it from the newest snapshot at or below
     *                            {@code maxSnapshotPosition} and the journal after it (needed after a truncation).
     * @param maxSnapshotPosition ignore snapshots above this position (they may describe a truncated history).
     * @return completes with the position the follower resumes from.
     */
    public CompletableFuture<Long> follow(final boolean rebuild, final long maxSnapshotPosition)
    {
        return control((logic, done) -> logic.follow(rebuild, maxSnapshotPosition, done));
    }

    /** @return true while the engine decides and appends (not a follower). */
    public boolean isLeading()
    {
        return logic.replica().leading();
    }

    /** @return leading, following or halted. */
    public String replicaMode()
    {
        return ReplicaState.name(logic.replica().mode());
    }

    /** @return the log position the in-memory state reflects while following (or reflected at the last switch). */
    public long appliedPosition()
    {
        return logic.replica().appliedPosition.get();
    }

    /** @return commands refused because the engine was not available (not primary, no standby). */
    public long refusedCommands()
    {
        return logic.replica().refusedCommands.get();
    }

    /** @return times the follower rebuilt its state after a truncation. */
    public long rebuilds()
    {
        return logic.replica().rebuilds.get();
    }

    private CompletableFuture<Long> control(
        final java.util.function.BiConsumer<BusinessLogic, CompletableFuture<Long>> action)
    {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        if (!publishControl(logic -> action.accept(logic, done)))
        {
            done.completeExceptionally(new SubmitRefusedException(closed ? Submit.CLOSED : Submit.RING_FULL));
        }
        return done;
    }

    /** @return counters. */
    public EngineCounters counters()
    {
        return counters;
    }

    /** @return the domain's event types, e.g. to render journal payloads. */
    public EventCodecs eventCodecs()
    {
        return ctx.domain().events();
    }

    /** @return the journal (read-only use: positions, readers). */
    public Journal journal()
    {
        return journal;
    }

    /** @return the concluded configuration. */
    public EngineContext context()
    {
        return ctx;
    }

    /** @return the reason the engine stopped processing, or null while it is healthy. */
    public String failure()
    {
        return logic.failure();
    }

    /** @return every distinct error recorded, with counts. */
    public String errorLog()
    {
        return errors.dump();
    }

    /**
     * Refresh the sampled gauges (ring depth and remaining capacity, journal committed position, fsync count and
     * time) from any thread, e.g. a node's sampler a few times a second: the hot path never pays for them.
     */
    public void sampleGauges()
    {
        final long depth = Math.max(0, ring.getCursor() - consumed.get());
        counters.ringDepth.setRelease(depth);
        counters.ringRemaining.setRelease(ring.remainingCapacity());
        counters.committedPosition.setRelease(journal.committedPosition());
        counters.fsyncs.setRelease(journal.fsyncCount());
        counters.fsyncNsTotal.setRelease(journal.fsyncNsTotal());
        counters.fsyncNsMax.setRelease(journal.fsyncNsMax());
    }

    /** @return true once {@link #close()} was called. */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Stop taking commands, process everything already in the ring, flush the journal, answer every command,
     * wait for an in-flight snapshot, and close the journal.
     */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (resourcesClosed)
            {
                return;
            }
            resourcesClosed = true;
        }
        closed = true;
        final long deadlineNs = System.nanoTime() + ctx.drainTimeoutNs();
        while (!hostDetached && consumed.get() < ring.getCursor() && System.nanoTime() < deadlineNs &&
            null == logic.failure())
        {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100)); // the business thread (or the host) drains
        }
        if (null != invoker)
        {
            takeOverFromHost(deadlineNs);
        }
        else
        {
            CloseHelper.quietClose(runner);
        }
        for (long sequence = consumed.get() + 1; sequence <= ring.getCursor(); sequence++)
        {
            if (ring.isAvailable(sequence))
            {
                logic.answerUnprocessed(ring.get(sequence));
            }
        }
        snapshotWriter.shutdown();
        boolean writerDone = false;
        try
        {
            writerDone = snapshotWriter.awaitTermination(ctx.drainTimeoutNs(), TimeUnit.NANOSECONDS);
            if (!writerDone)
            {
                errors.record(new IllegalStateException("snapshot writer did not finish within the drain timeout"));
                snapshotWriter.shutdownNow();
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        // a writer still running may be reading the snapshot buffer: leave that memory to the GC rather than free it
        logic.releaseResources(writerDone);
        CloseHelper.quietClose(journal);
    }

    // ------------------------------------------------------------------------------------------------ internals

    /**
     * Invoked mode: ask the host to stop invoking (it acknowledges on its next {@link #invoke()}; a host that has
     * already stopped cycling never will, hence the bound), then finish the drain on this thread and close the
     * business logic (final flush, answers released or failed) here.
     */
    private void takeOverFromHost(final long drainDeadlineNs)
    {
        detachFromHost();
        while (consumed.get() < ring.getCursor() && System.nanoTime() < drainDeadlineNs && null == logic.failure())
        {
            if (0 == invoker.invoke())
            {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
            }
        }
        CloseHelper.quietClose(invoker); // onClose: final flush, answers released or failed
    }

    private Submit trySubmit(final long clientId, final long commandId, final Command command,
        final long expectedStreamId, final long expectedVersion, final ResponseHandler handler,
        final CompletableFuture<CommandOutcome> future)
    {
        final int commandType = commandCodecs.typeIdOf(command);
        final ProducerScratch encoder = scratch.get();
        final Bytes<Void> bytes = encoder.bytes;
        bytes.clear();
        try
        {
            command.writeMarshallable(bytes);
        }
        catch (final BufferOverflowException | IllegalArgumentException ex)
        {
            return Submit.TOO_LARGE;
        }
        final int length = (int)bytes.writePosition();
        if (closed)
        {
            return Submit.CLOSED;
        }
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            counters.ringFull.incrementAndGet();
            return Submit.RING_FULL;
        }
        slotBytes.putBytes(slotOffset(sequence), encoder.view, 0, length);
        publish(sequence, clientId, commandId, commandType, length, expectedStreamId, expectedVersion, handler, future);
        return Submit.SUBMITTED;
    }

    private void publish(final long sequence, final long clientId, final long commandId, final int commandType,
        final int length, final long expectedStreamId, final long expectedVersion, final ResponseHandler handler,
        final CompletableFuture<CommandOutcome> future)
    {
        final CommandSlot slot = ring.get(sequence);
        slot.kind = CommandSlot.COMMAND;
        slot.clientId = clientId;
        slot.commandId = commandId;
        slot.commandType = commandType;
        slot.length = length;
        slot.expectedStreamId = expectedStreamId;
        slot.expectedVersion = expectedVersion;
        slot.handler = handler;
        slot.future = future;
        slot.control = null;
        slot.submitNs = recordLatency ? System.nanoTime() : 0;
        ring.publish(sequence);
    }

    private boolean publishControl(final Consumer<BusinessLogic> control)
    {
        if (closed)
        {
            return false;
        }
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException ex)
        {
            return false;
        }
        final CommandSlot slot = ring.get(sequence);
        slot.kind = CommandSlot.CONTROL;
        slot.handler = null;
        slot.future = null;
        slot.control = control;
        ring.publish(sequence);
        return true;
    }

    private int slotOffset(final long sequence)
    {
        return (int)(sequence & ringMask) * maxCommandLength;
    }

    private CompletableFuture<Optional<Aggregate>> history(final long streamId, final long version,
        final long timestampNs)
    {
        final CompletableFuture<long[]> range = new CompletableFuture<>();
        if (!publishControl(logic -> logic.resolveHistory(streamId, version, timestampNs, range)))
        {
            range.completeExceptionally(new SubmitRefusedException(closed ? Submit.CLOSED : Submit.RING_FULL));
        }
        return range.thenApplyAsync(r -> rebuild(streamId, r[0], r[1], r[2]));
    }

    private Optional<Aggregate> rebuild(final long streamId, final long version, final long from, final long to)
    {
        if (version <= 0)
        {
            return Optional.empty();
        }
        final EventCodecs codecs = ctx.domain().events();
        final Aggregate aggregate = ctx.domain().newAggregate(streamId);
        final long[] applied = new long[1];
        final boolean[] done = new boolean[1];
        try (JournalReader reader = journal.reader(from))
        {
            while (!done[0])
            {
                final int n = reader.poll((JournalFrame frame) ->
                {
                    if (done[0] || frame.streamId() != streamId)
                    {
                        return;
                    }
                    final byte[] payload = new byte[frame.payloadLength()];
                    frame.buffer().getBytes(frame.payloadOffset(), payload);
                    aggregate.apply(codecs.decode(frame.type(), payload));
                    applied[0]++;
                    if (frame.position() >= to)
                    {
                        done[0] = true;
                    }
                }, 1024);
                if (0 == n)
                {
                    break;
                }
            }
        }
        if (applied[0] != version)
        {
            throw new IllegalStateException("time travel for stream " + streamId + " applied " + applied[0] +
                " events, expected " + version);
        }
        return Optional.of(aggregate);
    }

    /**
     * Per-producer-thread encoding buffer: commands are encoded here, then copied into the claimed slot.
     */
    private static final class ProducerScratch
    {
        final Bytes<Void> bytes;
        final UnsafeBuffer view;

        ProducerScratch(final int capacity)
        {
            bytes = Bytes.allocateDirect(capacity);
            view = new UnsafeBuffer(bytes.addressForRead(0), capacity);
        }
    }
}
