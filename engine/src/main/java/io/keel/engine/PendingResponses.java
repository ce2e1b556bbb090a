package io.keel.engine;

import java.util.concurrent.CompletableFuture;

/**
 * Answers waiting until the journal position they depend on is durable, in command order. A bounded ring of
 * preallocated entries; business-logic thread only.
 */
final class PendingResponses
{
    private final int capacity;
    private final long[] clientIds;
    private final long[] commandIds;
    private final CommandResult.Status[] statuses;
    private final Rejection[] rejections;
    private final long[] expectedVersions;
    private final long[] actualVersions;
    private final long[] positions;
    private final int[] eventCounts;
    private final boolean[] duplicates;
    private final String[] errors;
    private final ResponseHandler[] handlers;
    private final Object[] futures;
    private final long[] requiredPositions;
    private final long[] submitNs;
    private final EngineCounters counters;
    private long head;
    private long tail;

    PendingResponses(final int capacity)
    {
        this(capacity, null);
    }

    /**
     * @param capacity most answers waiting.
     * @param counters where delivered answers' latency is recorded (when it records latency), or null.
     */
    PendingResponses(final int capacity, final EngineCounters counters)
    {
        this.capacity = capacity;
        this.counters = null != counters && counters.recordsLatency() ? counters : null;
        submitNs = new long[capacity];
        clientIds = new long[capacity];
        commandIds = new long[capacity];
        statuses = new CommandResult.Status[capacity];
        rejections = new Rejection[capacity];
        expectedVersions = new long[capacity];
        actualVersions = new long[capacity];
        positions = new long[capacity];
        eventCounts = new int[capacity];
        duplicates = new boolean[capacity];
        errors = new String[capacity];
        handlers = new ResponseHandler[capacity];
        futures = new Object[capacity];
        requiredPositions = new long[capacity];
    }

    int size()
    {
        return (int)(tail - head);
    }

    int remaining()
    {
        return capacity - size();
    }

    void add(
        final long clientId,
        final long commandId,
        final CommandResult.Status status,
        final Rejection rejection,
        final long expectedVersion,
        final long actualVersion,
        final long position,
        final int eventCount,
        final boolean duplicate,
        final String error,
        final ResponseHandler handler,
        final CompletableFuture<CommandOutcome> future,
        final long requiredPosition)
    {
        add(clientId, commandId, status, rejection, expectedVersion, actualVersion, position, eventCount, duplicate,
            error, handler, future, requiredPosition, 0);
    }

    /**
     * @param submitNs when the command entered the ring ({@link System#nanoTime()}), or 0 when not measured.
     */
    void add(
        final long clientId,
        final long commandId,
        final CommandResult.Status status,
        final Rejection rejection,
        final long expectedVersion,
        final long actualVersion,
        final long position,
        final int eventCount,
        final boolean duplicate,
        final String error,
        final ResponseHandler handler,
        final CompletableFuture<CommandOutcome> future,
        final long requiredPosition,
        final long submitNs)
    {
        if (size() == capacity)
        {
            throw new IllegalStateException("pending responses exceed maxPendingResponses = " + capacity);
        }
        assert tail == head || requiredPosition >= requiredPositions[(int)((tail - 1) % capacity)] :
            "required positions must not decrease";
        final int i = (int)(tail % capacity);
        clientIds[i] = clientId;
        commandIds[i] = commandId;
        statuses[i] = status;
        rejections[i] = rejection;
        expectedVersions[i] = expectedVersion;
        actualVersions[i] = actualVersion;
        positions[i] = position;
        eventCounts[i] = eventCount;
        duplicates[i] = duplicate;
        errors[i] = error;
        handlers[i] = handler;
        futures[i] = future;
        requiredPositions[i] = requiredPosition;
        this.submitNs[i] = submitNs;
        tail++;
    }

    /**
     * Deliver, in order, every answer whose required position is at most the release position.
     *
     * @return answers delivered.
     */
    int release(final long releasePosition, final CommandResult result, final EngineErrors errors)
    {
        int count = 0;
        long nowNs = 0;
        while (head < tail)
        {
            final int i = (int)(head % capacity);
            if (requiredPositions[i] > releasePosition)
            {
                break;
            }
            if (null != counters && 0 != submitNs[i])
            {
                if (0 == nowNs)
                {
                    nowNs = System.nanoTime(); // one clock read per released batch
                }
                counters.recordLatency(nowNs - submitNs[i]);
            }
            deliver(i, result, errors, null);
            head++;
            count++;
        }
        return count;
    }

    /**
     * Answer everything still pending as failed: the engine can no longer tell whether it became durable.
     */
    int failAll(final String reason, final CommandResult result, final EngineErrors errors)
    {
        int count = 0;
        while (head < tail)
        {
            deliver((int)(head % capacity), result, errors, reason);
            head++;
            count++;
        }
        return count;
    }

    @SuppressWarnings("unchecked")
    private void deliver(final int i, final CommandResult result, final EngineErrors errors, final String failure)
    {
        if (null == failure)
        {
            result.set(clientIds[i], commandIds[i], statuses[i], rejections[i], expectedVersions[i],
                actualVersions[i], positions[i], eventCounts[i], duplicates[i], this.errors[i]);
        }
        else
        {
            result.set(clientIds[i], commandIds[i], CommandResult.Status.FAILED, null, 0, 0, 0, 0, duplicates[i],
                failure);
        }
        final ResponseHandler handler = handlers[i];
        final CompletableFuture<CommandOutcome> future = (CompletableFuture<CommandOutcome>)futures[i];
        handlers[i] = null;
        futures[i] = null;
        rejections[i] = null;
        this.errors[i] = null;
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
            errors.record(new IllegalStateException("response handler threw for " + clientIds[i] + ":" +
                commandIds[i], ex));
        }
    }
}
