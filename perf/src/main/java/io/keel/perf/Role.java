package io.keel.perf;

import java.util.Locale;

/**
 * What a measured series is in its run: the thing we build, the thing it stands beside, or the harness floor.
 */
public enum Role
{
    /**
     * Our component (or the design it follows) under test.
     */
    SCENARIO,

    /**
     * The alternative it is compared with, measured in the same run with the same work and message sizes.
     */
    BASELINE,

    /**
     * The harness measuring nothing: the floor below which no figure can go on this machine.
     */
    FLOOR;

    /**
     * Lower-case label used in reports.
     *
     * @return the label.
     */
    public String label()
    {
        return name().toLowerCase(Locale.ROOT);
    }
}
