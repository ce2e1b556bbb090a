package io.keel.cli;

/**
 * The payload renderer the journal tools use.
 */
final class Renderers
{
    private Renderers()
    {
    }

    static PayloadRenderer forJournalTools()
    {
        return PayloadRenderer.RAW;
    }
}
