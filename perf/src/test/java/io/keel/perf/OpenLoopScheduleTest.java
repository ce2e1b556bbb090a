package io.keel.perf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OpenLoopScheduleTest
{
    @Test
    void intendedTimesFollowTheRateFromTheStart()
    {
        final OpenLoopSchedule schedule = new OpenLoopSchedule(1_000, 1_000);

        assertEquals(1_000, schedule.intendedTimeNs(0));
        assertEquals(1_001_000, schedule.intendedTimeNs(1));
        assertEquals(1_000_001_000L, schedule.intendedTimeNs(1_000));
    }

    @Test
    void periodThatIsNotAWholeNumberOfNanosecondsDoesNotDrift()
    {
        final OpenLoopSchedule schedule = new OpenLoopSchedule(0, 3);

        assertEquals(333_333_333L, schedule.intendedTimeNs(1));
        assertEquals(666_666_666L, schedule.intendedTimeNs(2));
        assertEquals(1_000_000_000L, schedule.intendedTimeNs(3));
        assertEquals(3_000_000_000_000L, schedule.intendedTimeNs(9_000));
    }

    @Test
    void highRateOverAnHourStaysExact()
    {
        final long rate = 7_000_001;
        final OpenLoopSchedule schedule = new OpenLoopSchedule(5, rate);

        assertEquals(5 + 3_600_000_000_000L, schedule.intendedTimeNs(rate * 3_600));
    }

    @Test
    void countBeforeCountsIntendedTimesStrictlyBeforeTheEnd()
    {
        final OpenLoopSchedule schedule = new OpenLoopSchedule(100, 3);

        assertEquals(0, schedule.countBefore(100));
        assertEquals(1, schedule.countBefore(101));
        assertEquals(3, schedule.countBefore(100 + 1_000_000_000L));
        assertEquals(4, schedule.countBefore(101 + 1_000_000_000L));
    }

    @Test
    void rejectsRatesOutsideTheSupportedRange()
    {
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 2_000_000_000L));
    }
}
