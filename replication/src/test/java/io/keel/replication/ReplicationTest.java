package io.keel.replication;

import io.keel.journal.Journal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static io.keel.replication.TestNode.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Two members in this JVM, each with its own embedded media driver, talking Aeron UDP over loopback. Tests whose
 * subject is not failover keep member 1 from promoting itself: on this shared 2-core box a loaded in-process pair
 * can miss heartbeats for longer than the timeout (see the report: heartbeats share the back-pressured data stream).
 */
@Timeout(120)
class ReplicationTest
{
    private static final long DEADLINE_MS = 30_000;

    @TempDir
    Path root;

    @Test
    void standbyJournalIsByteIdenticalToThePrimarysUpToTheReplicatedPosition() throws Exception
    {
        final List<Member> members = TestNode.members();
        try (TestNode a = TestNode.start(root, 0, members, ctx -> {});
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.autoPromote(false)))
        {
            await("member 0 to become primary of the fresh pair", DEADLINE_MS, () -> a.node.isPrimary());
            assertEquals(Role.STANDBY, b.node.role());
            long end = 0;
            for (int round = 0; round < 20; round++)
            {
                end = a.appendGroups(200);
            }
            final long target = end;
            await("standby to ack " + target, DEADLINE_MS, () -> a.node.ackGate().standbyAckedPosition() == target);
            assertTrue(a.journal.segmentCount() > 3, "segments " + a.journal.segmentCount());
            assertEquals(target, b.journal.durablePosition());
            assertEquals(0, a.node.counters().lagBytes() > 0 ? 1 : 0, a.node.counters().toString());
            System.out.println("replicated " + target + " bytes; primary " + a.node.counters());
            System.out.println("standby " + b.node.counters());
            a.stop();
            b.stop();
            final long compared = TestNode.assertJournalsIdentical(a, b, true);
            assertTrue(compared >= target);
        }
    }

    @Test
    void restartedStandbyResumesFromItsOwnPosition() throws Exception
    {
        final List<Member> members = TestNode.members();
        try (TestNode a = TestNode.start(root, 0, members, ctx -> {});
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.autoPromote(false)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long first = a.appendGroups(500);
            await("standby ack", DEADLINE_MS, () -> a.node.ackGate().standbyAckedPosition() == first);
            b.stop();
            final long second = a.appendGroups(700);
            b.start();
            await("restarted standby to ack " + second, DEADLINE_MS,
                () -> a.node.ackGate().standbyAckedPosition() == second);
            assertEquals(0, b.node.counters().truncations());
            // it resumed at its own end: it appended only the frames written while it was down
            final long framesWhileDown = countFrames(a, first, second);
            assertEquals(framesWhileDown, b.node.counters().framesAppended());
            a.stop();
            b.stop();
            TestNode.assertJournalsIdentical(a, b, true);
        }
    }

    @Test
    void lostBatchesAreResentAndCauseNoDivergence() throws Exception
    {
        final List<Member> members = TestNode.members();
        final SplittableRandom random = new SplittableRandom(42);
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.maxBatchBytes(4096));
            TestNode b = TestNode.start(root, 1, members,
                ctx -> ctx.autoPromote(false).maxBatchBytes(4096)
                    .receiveFilter((start, length) -> random.nextInt(10) == 0)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            long end = 0;
            for (int round = 0; round < 10; round++)
            {
                end = a.appendGroups(300);
            }
            final long target = end;
            await("standby to ack " + target + " despite losses", DEADLINE_MS,
                () -> a.node.ackGate().standbyAckedPosition() == target);
            assertTrue(b.node.counters().batchesDropped() > 10, b.node.counters().toString());
            assertTrue(b.node.counters().resendRequests() > 0, b.node.counters().toString());
            assertTrue(a.node.counters().resendsServed() > 0, a.node.counters().toString());
            assertEquals(0, b.node.counters().framesRejected());
            System.out.println("with 10% of batches dropped: primary " + a.node.counters());
            System.out.println("standby " + b.node.counters());
            a.stop();
            b.stop();
            TestNode.assertJournalsIdentical(a, b, true);
        }
    }

    @Test
    void syncGateNeverReleasesAPositionTheStandbyHasNotAcked()
    {
        final List<Member> members = TestNode.members();
        final SplittableRandom random = new SplittableRandom(7);
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.ackMode(AckMode.SYNC));
            TestNode b = TestNode.start(root, 1, members,
                ctx -> ctx.autoPromote(false).receiveFilter((start, length) -> random.nextInt(5) == 0)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final AckGate gate = a.node.ackGate();
            long checks = 0;
            long maxReleased = 0;
            long heldBack = 0;
            for (int round = 0; round < 400; round++)
            {
                final long durable = a.appendGroups(5);
                final long releasable = gate.releasablePosition(durable);
                final long standbyHolds = b.journal.durablePosition(); // read after: it only grows
                assertTrue(releasable <= standbyHolds, "released " + releasable + " but the standby holds only " +
                    standbyHolds);
                assertTrue(releasable <= durable);
                if (releasable < durable)
                {
                    heldBack++;
                }
                maxReleased = Math.max(maxReleased, releasable);
                checks++;
            }
            final long end = a.journal.durablePosition();
            await("everything released once acked", DEADLINE_MS, () -> gate.releasablePosition(end) == end);
            assertTrue(heldBack > 0, "the gate never had to hold anything back: the test proves nothing");
            System.out.println("sync gate: " + checks + " checks, " + heldBack + " held back, released up to " +
                maxReleased);

            // the standby goes away: SYNC acknowledges nothing more and says so (a loaded machine may already have
            // counted a short loss above: count from here)
            final long lossesBefore = a.node.counters().standbyLosses();
            b.stop();
            await("NO_STANDBY", DEADLINE_MS, () -> gate.status() == AckGate.Status.NO_STANDBY);
            final long after = a.appendGroups(50);
            assertEquals(end, gate.releasablePosition(after), "nothing beyond the last ack may be released");
            assertEquals(AckGate.Status.NO_STANDBY, gate.status());
            assertTrue(a.node.counters().standbyLosses() > lossesBefore, "the loss is counted");

            // it comes back, catches up, and responses flow again
            b.start();
            await("standby back and caught up", DEADLINE_MS, () -> gate.releasablePosition(after) == after);
            assertEquals(AckGate.Status.RELEASE, gate.status());
        }
    }

    @Test
    void syncDegradesToAsyncOnlyWhenAllowedAndAfterTheTimeout()
    {
        final List<Member> members = TestNode.members();
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.degradeToAsyncAfterMs(200));
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.autoPromote(false)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final AckGate gate = a.node.ackGate();
            final long first = a.appendGroups(20);
            // acked by the standby in SYNC: a slow epoch write on a loaded machine can start the primary more than
            // 200 ms before its standby follows, degraded already until the standby has caught up
            await("acked by the standby, in SYNC", DEADLINE_MS,
                () -> gate.standbyAckedPosition() >= first && !gate.isDegraded());
            final long lostAtNs = System.nanoTime();
            b.stop();
            await("NO_STANDBY", DEADLINE_MS, () -> gate.status() == AckGate.Status.NO_STANDBY);
            final long second = a.appendGroups(20);
            final long released = gate.releasablePosition(second);
            assertTrue(released == first || gate.isDegraded(), "released " + released + " beyond the last ack " +
                first + " without degrading"); // a loaded machine may take the 200 ms before this line
            await("degraded", DEADLINE_MS, () -> gate.isDegraded());
            assertTrue(System.nanoTime() - lostAtNs >= 200_000_000L, "degraded before the allowed timeout");
            assertEquals(second, gate.releasablePosition(second));
            assertEquals(AckGate.Status.RELEASE, gate.status());
            b.start();
            await("back to SYNC once caught up", DEADLINE_MS, () -> !gate.isDegraded());
        }
    }

    @Test
    void standbyTakesOverAndTheOldPrimaryRejoinsWithItsDivergentTailTruncated() throws Exception
    {
        final List<Member> members = TestNode.members();
        final boolean[] cut = { false };
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.ackMode(AckMode.ASYNC));
            TestNode b = TestNode.start(root, 1, members,
                ctx -> ctx.ackMode(AckMode.ASYNC).receiveFilter((start, length) -> cut[0])))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long common = a.appendGroups(300);
            await("standby ack", DEADLINE_MS, () -> a.node.ackGate().standbyAckedPosition() == common);
            final long epochA = a.node.epoch();

            // frames stop reaching the standby; the primary writes a tail in its epoch that only it holds
            cut[0] = true;
            final long tailEnd = a.appendGroups(100);
            assertTrue(tailEnd > common);
            assertEquals(common, b.journal.durablePosition());
            final long killedAtNs = System.nanoTime();
            a.stop();

            await("standby to promote", DEADLINE_MS, () -> b.node.isPrimary());
            final long takeoverMs = (System.nanoTime() - killedAtNs) / 1_000_000;
            assertTrue(b.node.epoch() > epochA);
            assertEquals(1, b.node.epoch() % 2, "member 1 draws odd epochs");
            cut[0] = false;
            final long newEnd = b.appendGroups(200);

            a.start();
            await("old primary to follow the new one", DEADLINE_MS,
                () -> b.node.ackGate().standbyAckedPosition() == newEnd);
            assertEquals(Role.STANDBY, a.node.role());
            assertEquals(b.node.epoch(), a.node.epoch());
            assertEquals(1, a.node.counters().truncations());
            assertEquals(tailEnd - common, a.node.counters().truncatedBytes());
            System.out.println("takeover after " + takeoverMs + " ms (failure timeout " +
                b.node.context().failureTimeoutMs() + " ms); old primary cut " + (tailEnd - common) +
                " bytes written only in its epoch");
            a.stop();
            b.stop();
            TestNode.assertJournalsIdentical(a, b, true);
        }
    }

    @Test
    void anAsyncStandbyStillCatchingUpDoesNotPromoteItselfWhenItsPrimaryFallsSilent() throws Exception
    {
        final List<Member> members = TestNode.members();
        final boolean[] cut = { true }; // the standby joins behind: none of the primary's frames reach it yet
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.ackMode(AckMode.ASYNC)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long end = a.appendGroups(300); // acknowledged in ASYNC, held by the primary alone
            try (TestNode b = TestNode.start(root, 1, members,
                ctx -> ctx.ackMode(AckMode.ASYNC).receiveFilter((start, length) -> cut[0])))
            {
                await("the standby follows, its log still empty", DEADLINE_MS,
                    () -> b.node.counters().batchesDropped() > 0 && Role.STANDBY == b.node.role());
                assertEquals(0, b.journal.durablePosition());
                assertEquals(0, b.node.counters().catchUps());

                // the primary falls silent (a stall, a kill: the standby cannot tell). Promoting now would cut all
                // 300 acknowledged groups from the primary when it speaks again: the standby waits instead
                a.stop();
                assertNeverPrimary(b, System.nanoTime(), 10 * b.node.context().failureTimeoutMs(),
                    "a standby still catching up promoted itself");
                assertEquals(0, b.node.counters().promotions());

                // the primary is back: the standby catches up, and from then on may take over
                a.start();
                await("the primary leads again", DEADLINE_MS, () -> a.node.isPrimary());
                cut[0] = false;
                await("the standby caught up", DEADLINE_MS, () -> b.node.counters().catchUps() == 1);
                assertTrue(b.journal.durablePosition() >= end);
                a.stop();
                await("the caught-up standby promotes", DEADLINE_MS, () -> b.node.isPrimary());
                assertTrue(b.journal.durablePosition() >= end, "the new primary holds every acknowledged group");
            }
        }
    }

    @Test
    void withPromoteBehindAfterAnAsyncStandbyStillCatchingUpTakesOverOnceThePrimaryWasSilentThatLong() throws Exception
    {
        final List<Member> members = TestNode.members();
        final long promoteBehindMs = 1200; // the failure timeout is 250 ms here
        try (TestNode a = TestNode.start(root, 0, members, ctx -> ctx.ackMode(AckMode.ASYNC)))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long end = a.appendGroups(300); // acknowledged in ASYNC, held by the primary alone
            // the standby joins behind: none of the primary's frames reach it
            try (TestNode b = TestNode.start(root, 1, members, ctx -> ctx.ackMode(AckMode.ASYNC)
                .promoteBehindAfterMs(promoteBehindMs).receiveFilter((start, length) -> true)))
            {
                await("the standby follows, its log still empty", DEADLINE_MS,
                    () -> b.node.counters().batchesDropped() > 0 && Role.STANDBY == b.node.role());
                assertEquals(0, b.journal.durablePosition());

                // silent for longer than the failure timeout but not yet the promote-behind time: still waiting
                final long silentFromNs = System.nanoTime();
                a.stop();
                // a window of 2.4 failure timeouts, 450 ms short of the setting: the primary's last heartbeat may
                // have come that much before the stop on a loaded machine
                assertNeverPrimary(b, silentFromNs, promoteBehindMs - 450,
                    "promoted before " + promoteBehindMs + " ms of silence");
                // then it takes over, behind: the operator chose availability over the primary's unreplicated tail
                await("the standby takes over behind", DEADLINE_MS, () -> b.node.isPrimary());
                assertEquals(1, b.node.counters().promotionsBehind());
                assertEquals(0, b.node.counters().catchUps());
                assertTrue(b.journal.durablePosition() < end, "it took over without the primary's tail");

                // the old primary returns, steps down and cuts what only it had: the loss the setting accepts
                a.start();
                await("the old primary follows the new one with the same log", DEADLINE_MS,
                    () -> Role.STANDBY == a.node.role() && a.journal.committedPosition() == b.journal.committedPosition());
                assertTrue(a.journal.committedPosition() < end);
            }
        }
    }

    @Test
    void promoteBehindAfterIsRefusedBelowTheFailureTimeoutAndWithAWitness()
    {
        final Path dir = root.resolve("refused");
        try (Journal journal = Journal.open(TestNode.journalContext(dir.resolve("journal"))))
        {
            final List<Member> members = TestNode.members();
            final IllegalArgumentException below = assertThrows(IllegalArgumentException.class,
                () -> new ReplicationContext().nodeId(0).members(members).journal(journal).stateDir(dir)
                    .failureTimeoutMs(250).promoteBehindAfterMs(249).conclude());
            assertTrue(below.getMessage().contains(ReplicationContext.PROMOTE_BEHIND_PROP + " = 249"),
                below.getMessage());
            final IllegalArgumentException withWitness = assertThrows(IllegalArgumentException.class,
                () -> new ReplicationContext().nodeId(0).members(members).journal(journal).stateDir(dir)
                    .failureTimeoutMs(250).promoteBehindAfterMs(500).witness("127.0.0.1:9400").conclude());
            assertTrue(withWitness.getMessage().contains("and a witness"), withWitness.getMessage());
        }
    }

    @Test
    void aSteppedDownPrimaryRejoiningFarBehindDoesNotPromoteOnAnEarlierCatchUp() throws Exception
    {
        final List<Member> members = TestNode.members();
        final boolean[] linkDown = { false };
        final boolean[] dropToB = { false };
        try (TestNode a = TestNode.start(root, 0, members,
                ctx -> ctx.ackMode(AckMode.ASYNC).peerLinkDown(() -> linkDown[0]));
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.ackMode(AckMode.ASYNC)
                .peerLinkDown(() -> linkDown[0]).receiveFilter((start, length) -> dropToB[0])))
        {
            await("member 0 primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long first = a.appendGroups(100);
            await("member 1 caught up", DEADLINE_MS,
                () -> b.node.counters().catchUps() == 1 && b.journal.durablePosition() >= first);

            // a cut link: member 1 takes over; healed, member 0 steps down and follows it
            linkDown[0] = true;
            await("member 1 promotes", DEADLINE_MS, () -> b.node.isPrimary());
            linkDown[0] = false;
            handBackWhenSteppingDown(a);
            final long second = b.appendGroups(100);
            await("member 0 caught up with member 1", DEADLINE_MS,
                () -> a.node.counters().catchUps() == 1 && a.journal.durablePosition() >= second);

            // cut again: member 0 takes over and acknowledges much more; healed, member 1 steps down and rejoins
            // far behind (its frames dropped), having caught up once, with member 0, before it led
            linkDown[0] = true;
            await("member 0 promotes", DEADLINE_MS, () -> a.node.isPrimary());
            b.appendGroups(10);
            final long third = a.appendGroups(2000);
            dropToB[0] = true;
            linkDown[0] = false;
            handBackWhenSteppingDown(b);
            await("member 1 follows member 0 again", DEADLINE_MS,
                () -> b.node.counters().batchesDropped() > 0 && Role.STANDBY == b.node.role());

            a.stop();
            assertNeverPrimary(b, System.nanoTime(), 10 * b.node.context().failureTimeoutMs(),
                "member 1 promoted while " + (third - b.journal.durablePosition()) +
                " bytes behind, on its catch-up from an earlier handshake");
        }
    }

    /** A stepping-down node without an engine: hand the appender back at once, as the application would. */
    private static void handBackWhenSteppingDown(final TestNode node)
    {
        await("member " + node.id + " steps down", DEADLINE_MS, () -> node.node.role() != Role.PRIMARY);
        if (Role.STEPPING_DOWN == node.node.role())
        {
            node.node.releaseAppender();
        }
        await("member " + node.id + " is a standby", DEADLINE_MS, () -> Role.STANDBY == node.node.role());
    }

    /**
     * Watches a node for the whole window from {@code fromNs}: a promotion, which must not happen, has no event to
     * wait for.
     */
    private static void assertNeverPrimary(
        final TestNode node, final long fromNs, final long windowMs, final String message)
    {
        final long windowNs = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(windowMs);
        while (true)
        {
            final Role role = node.node.role(); // before the clock: a pause between them cannot blame a late promotion
            if (System.nanoTime() - fromNs >= windowNs)
            {
                return;
            }
            assertNotEquals(Role.PRIMARY, role, message);
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    @Test
    void aRestartedPrimaryListensForAGracePeriodBeforePromotingItself() throws Exception
    {
        final List<Member> members = TestNode.members();
        try (TestNode a = TestNode.start(root, 0, members, ctx -> {});
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.autoPromote(false)))
        {
            await("member 0 to become primary", DEADLINE_MS, () -> a.node.isPrimary());
            a.appendGroups(20);
            b.stop();
            a.stop(); // stopped while primary: its node state says PRIMARY

            final long restartedNs = System.nanoTime();
            a.start();
            final long graceMs = Math.max(1000, 4 * a.node.context().failureTimeoutMs());
            // the peer may be a newer primary that this JVM has not heard yet: within the grace period it only
            // listens (before the fix it promoted after one failure timeout, into an epoch above the real primary's)
            assertNeverPrimary(a, restartedNs, graceMs / 2, "promoted itself within the grace period");
            await("the lone restarted primary to promote once the grace period is over", DEADLINE_MS,
                () -> a.node.isPrimary());
            assertTrue(System.nanoTime() - restartedNs >= java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(graceMs),
                "promoted before the grace period of " + graceMs + " ms ended");
        }
    }

    @Test
    void aPrimaryThatSeesAHigherEpochStepsDownAndAcknowledgesNothing() throws Exception
    {
        final List<Member> members = TestNode.members();
        final boolean[] cut = { false };
        try (TestNode a = TestNode.start(root, 0, members, ctx -> {});
            TestNode b = TestNode.start(root, 1, members, ctx -> ctx.receiveFilter((s, l) -> cut[0])))
        {
            await("primary", DEADLINE_MS, () -> a.node.isPrimary());
            final long first = a.appendGroups(100);
            await("ack", DEADLINE_MS, () -> a.node.ackGate().standbyAckedPosition() == first);
            // stop the primary's heartbeats from mattering: the standby promotes when a's agent is paused by
            // closing only a's node (its journal stays open with the application still "running")
            a.node.close();
            await("b promotes", DEADLINE_MS, () -> b.node.isPrimary());
            final long newEnd = b.appendGroups(10);
            // a comes back as the primary it believes it is: it sees epoch 3 and steps down
            a.node = ReplicationNode.launch(new ReplicationContext().nodeId(0).members(members).journal(a.journal)
                .stateDir(a.dir).aeronDirectoryName(a.aeronDir).idle("backoff").termLengthBytes(1024 * 1024));
            await("a follows", DEADLINE_MS, () -> b.node.ackGate().standbyAckedPosition() == newEnd);
            assertEquals(Role.STANDBY, a.node.role());
            assertEquals(AckGate.NOTHING, a.node.ackGate().releasablePosition(a.journal.durablePosition()));
            assertEquals(AckGate.Status.NOT_PRIMARY, a.node.ackGate().status());
            assertEquals(b.node.epoch(), NodeStateFile.open(a.dir).epoch(), "the new epoch is persisted");
        }
    }

    private static long countFrames(final TestNode node, final long from, final long to)
    {
        final long[] count = { 0 };
        try (io.keel.journal.JournalReader reader = node.journal.reader(from))
        {
            while (reader.position() < to && reader.poll(frame -> count[0]++, 100) > 0)
            {
                // counting
            }
        }
        return count[0];
    }
}
