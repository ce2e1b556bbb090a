package io.keel.journal;

/**
 * Receives frames from a {@link JournalReader}.
 */
@FunctionalInterface
public interface FrameHandler
{
    /**
     * One frame. The flyweight and its buffer are reused: copy what you keep.
     *
     * @param frame the frame, valid during the call only.
     */
    void onFrame(JournalFrame frame);
}
