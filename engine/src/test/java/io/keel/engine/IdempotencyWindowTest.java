package io.keel.engine;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class IdempotencyWindowTest
{
    @Test
    void remembersTheLastCapacityCommandsAndForgetsOlderOnes()
    {
        final IdempotencyWindow window = new IdempotencyWindow(3);
        for (long id = 1; id <= 5; id++)
        {
            window.put(1, id, IdempotencyWindow.ACCEPTED, null, id * 8, 1, 0, 0, null);
        }
        assertEquals(IdempotencyWindow.NOT_FOUND, window.find(1, 1));
        assertEquals(IdempotencyWindow.NOT_FOUND, window.find(1, 2));
        for (long id = 3; id <= 5; id++)
        {
            assertEquals(id * 8, window.position(window.find(1, id)));
        }
        assertEquals(IdempotencyWindow.NOT_FOUND, window.find(2, 5), "client id is part of the key");
    }

    @Test
    void matchesAReferenceMapUnderRandomChurnWithCollidingKeys()
    {
        final int capacity = 257;
        final IdempotencyWindow window = new IdempotencyWindow(capacity);
        final Map<String, Long> reference = new HashMap<>();
        final Deque<String> order = new ArrayDeque<>();
        final Random random = new Random(3);
        for (int i = 0; i < 200_000; i++)
        {
            final long clientId = random.nextInt(4);
            final long commandId = random.nextInt(2_000);
            final String key = clientId + ":" + commandId;
            final int entry = window.find(clientId, commandId);
            if (reference.containsKey(key))
            {
                assertEquals((long)reference.get(key), window.position(entry), key);
            }
            else
            {
                assertEquals(IdempotencyWindow.NOT_FOUND, entry, key);
                if (order.size() == capacity)
                {
                    reference.remove(order.removeFirst());
                }
                window.put(clientId, commandId, IdempotencyWindow.REJECTED, Rejection.VERSION_CONFLICT, i, 0, 1, 2,
                    null);
                reference.put(key, (long)i);
                order.addLast(key);
            }
        }
        assertEquals(capacity, window.size());
    }

    @Test
    void survivesASnapshotRoundTrip()
    {
        final IdempotencyWindow window = new IdempotencyWindow(4);
        for (long id = 1; id <= 6; id++)
        {
            window.put(9, id, IdempotencyWindow.FAILED, null, 0, 0, 0, 0, "error " + id);
        }
        window.put(9, 7, IdempotencyWindow.REJECTED, Rejection.VERSION_CONFLICT, 0, 0, 3, 4, null);
        final UnsafeBuffer bytes = new UnsafeBuffer(new byte[(int)window.maxSnapshotLength()]);
        final int written = window.writeTo(bytes, 0);

        final IdempotencyWindow copy = new IdempotencyWindow(4);
        assertEquals(written, copy.readFrom(bytes, 0));
        assertEquals(4, copy.size());
        assertEquals(IdempotencyWindow.NOT_FOUND, copy.find(9, 3));
        assertEquals("error 6", copy.error(copy.find(9, 6)));
        final int conflict = copy.find(9, 7);
        assertEquals(Rejection.VERSION_CONFLICT, copy.rejection(conflict));
        assertEquals(3, copy.expectedVersion(conflict));
        assertEquals(4, copy.actualVersion(conflict));
        assertNull(copy.rejection(copy.find(9, 6)));
    }
}
