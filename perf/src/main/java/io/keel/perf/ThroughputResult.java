package io.keel.perf;

/**
 * Outcome of one {@link ThroughputRun}: ops/s of each measured iteration and bytes allocated per operation.
 */
public final class ThroughputResult
{
    private final String name;
    private final Role role;
    private final double[] iterationOpsPerSecond;
    private final double allocatedBytesPerOp;

    /**
     * A result.
     *
     * @param name                  series name.
     * @param role                  scenario, baseline or floor.
     * @param iterationOpsPerSecond ops/s of each measured iteration.
     * @param allocatedBytesPerOp   bytes allocated per operation on the hot threads, NaN when unknown.
     */
    public ThroughputResult(
        final String name, final Role role, final double[] iterationOpsPerSecond, final double allocatedBytesPerOp)
    {
        this.name = name;
        this.role = role;
        this.iterationOpsPerSecond = iterationOpsPerSecond.clone();
        this.allocatedBytesPerOp = allocatedBytesPerOp;
    }

    /**
     * Series name.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * Scenario, baseline or floor.
     *
     * @return the role.
     */
    public Role role()
    {
        return role;
    }

    /**
     * Ops/s of each measured iteration.
     *
     * @return a copy of the figures.
     */
    public double[] iterationOpsPerSecond()
    {
        return iterationOpsPerSecond.clone();
    }

    /**
     * The headline figure: median over measured iterations.
     *
     * @return operations per second.
     */
    public double medianOpsPerSecond()
    {
        return ThroughputRun.median(iterationOpsPerSecond);
    }

    /**
     * Bytes allocated per operation on the hot threads during measured iterations.
     *
     * @return bytes per operation, NaN when unknown.
     */
    public double allocatedBytesPerOp()
    {
        return allocatedBytesPerOp;
    }
}
