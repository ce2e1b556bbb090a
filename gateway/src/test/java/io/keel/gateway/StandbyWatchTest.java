package io.keel.gateway;

import io.aeron.Aeron;
import io.aeron.AeronCounters;
import io.keel.engine.CommandOutcome;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.client.KeelClient;
import io.keel.journal.DurabilityPolicy;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.keel.gateway.ClientTestSupport.await;
import static io.keel.gateway.ClientTestSupport.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client keeps a WATCH on the members it is not connected to; the one that becomes the primary answers it at once,
 * so the client follows a takeover without waiting for its liveness timeout (set to a minute here, so nothing else
 * can explain the switch). Two plain nodes stand in for a pair: which one is primary is set on their gateways.
 */
class StandbyWatchTest
{
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(20);

    @TempDir
    Path dir;

    private KeelNode a;
    private KeelNode b;
    private KeelClient client;
    /**
     * Most standbys here defer their watchers' publications (the default adds one per WATCH at once) and let go of
     * them as soon as they stop holding connects.
     */
    private boolean deferWatchPublications = true;
    private long watchPublicationLingerNs = 0;
    /** Member 1 starts knowing no primary, as a member of a replicated pair does until its roles are known. */
    private boolean memberOneStartsWithNoPrimary;

    @AfterEach
    void closeAll()
    {
        CloseHelper.quietCloseAll(client, a, b);
    }

    @Test
    void theMemberThatBecomesPrimaryTakesTheClientAtOnceThroughItsWatch() throws Exception
    {
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5));
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");
        assertEquals(0, publications(b), "a standby holds a watch without a publication to the client");
        // its primary silent, a standby that may take over connects to its watchers beforehand...
        b.gateway().holdConnects(true);
        pollUntil(() -> 1 == publications(b), "member 1 connects to its watcher while it holds connects");
        // ...and lets go when the primary speaks again; the watch stays
        b.gateway().holdConnects(false);
        pollUntil(() -> 0 == publications(b), "member 1 lets go of the publication when it no longer holds connects");
        assertEquals(1, b.gateway().counters().watchesActive.get());
        assertEquals(0, b.gateway().counters().watchesAnswered.get());

        final long flipNs = System.nanoTime();
        a.gateway().primaryMemberId(1); // the old primary steps down...
        b.gateway().primaryMemberId(1); // ...and member 1 takes over
        pollUntil(() -> client.isConnected() && 1 == client.member().id(), "the client moved to member 1");
        final long followedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - flipNs);

        assertEquals(1, client.watchTakeovers());
        assertEquals(2, client.connects());
        assertEquals(1, b.gateway().counters().watchesAnswered.get());
        assertTrue(followedMs < 10_000, "followed after " + followedMs + " ms");
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(2, 10))));
        assertEquals(1, publications(b), "the new primary answers the client on the publication it added then");
        assertEquals(1, a.engine().counters().commands());
        assertEquals(1, b.engine().counters().commands()); // the second command went to the new primary

        // and the client now watches the member it left, which holds the watch (it is not the primary)
        pollUntil(() -> a.gateway().counters().watchesActive.get() == 1, "member 0 holds the client's new watch");
        assertEquals(0, a.gateway().counters().watchesAnswered.get());
    }

    @Test
    void byDefaultAStandbyConnectsToEachWatcherAsTheWatchArrivesSoATakeoverNeedsNoNewPublication() throws Exception
    {
        deferWatchPublications = new GatewayContext().deferWatchPublications();
        assertEquals(false, deferWatchPublications, "the default");
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5));
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");
        pollUntil(() -> 1 == publications(b), "member 1 connects to its watcher while its primary speaks");
        assertEquals(1, b.gateway().counters().watchPublicationsAdded.get());

        b.gateway().primaryMemberId(1); // member 1 takes over (member 0 still thinks it leads: the client stays
        // connected to it and follows the watch of a primary of a newer epoch)
        pollUntil(() -> client.isConnected() && 1 == client.member().id(), "the client moved to member 1");
        assertEquals(1, client.watchTakeovers());
        assertEquals(1, b.gateway().counters().watchPublicationsAdded.get(),
            "the new primary answered on the publication it held, and added none");
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(2, 10))));
        assertEquals(1, b.engine().counters().commands());
    }

    @Test
    void aStandbyKeepsItsWatchersPublicationsForTheLingerAfterItLastHeldConnects() throws Exception
    {
        watchPublicationLingerNs = TimeUnit.SECONDS.toNanos(2);
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5));
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");
        assertEquals(0, publications(b), "a standby that never held connects has no publication to its watcher");

        // a primary that is often late under load: the standby holds connects now and then; it adds the
        // publication the first time and keeps it between holds, instead of adding and removing one each time
        final long lingerNs = watchPublicationLingerNs;
        b.gateway().holdConnects(true);
        pollUntil(() -> 1 == b.gateway().counters().watchPublicationsAdded.get(),
            "member 1 connects to its watcher while it holds connects");
        for (int i = 0; i < 3; i++)
        {
            b.gateway().holdConnects(false);
            pollFor(lingerNs / 4); // well within the linger
            b.gateway().holdConnects(true);
            pollFor(TimeUnit.MILLISECONDS.toNanos(50));
            assertEquals(1, b.gateway().counters().watchPublicationsAdded.get(),
                "kept between holds, not added again (pause " + (i + 1) + ")");
        }
        b.gateway().holdConnects(false);
        // once the primary has spoken for longer than the linger, the standby lets the publication go: the next
        // hold has to add one again
        pollFor(lingerNs + TimeUnit.MILLISECONDS.toNanos(500));
        b.gateway().holdConnects(true);
        pollUntil(() -> 2 == b.gateway().counters().watchPublicationsAdded.get(),
            "let go after the linger, so the next hold adds the publication again");
        b.gateway().holdConnects(false);
        assertEquals(1, b.gateway().counters().watchesActive.get(), "the watch itself stays");
        assertEquals(0, b.gateway().counters().watchesAnswered.get());
    }

    @Test
    void aClientSetToWatchWhenSilentOpensItsWatchOnlyOnceItsPrimaryFallsSilentAndStillFollowsTheTakeover() throws Exception
    {
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5));
        client = connect(members, null, TimeUnit.MILLISECONDS.toNanos(10));
        // a primary that answers (commands, and keep-alives every 50 ms) is never suspected: no watch, so the
        // client's driver polls no publication to the standby
        final long quietUntilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        long account = 1;
        while (System.nanoTime() < quietUntilNs)
        {
            assertInstanceOf(CommandOutcome.Accepted.class,
                await(client, client.submit(new OpenAccount().set(account++, 10))));
            final long idleUntilNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(60);
            while (System.nanoTime() < idleUntilNs)
            {
                if (0 == client.poll())
                {
                    Thread.yield();
                }
            }
        }
        assertEquals(0, client.watchesOpened());
        assertEquals(0, b.gateway().counters().watchesActive.get());

        // the primary falls silent (it stops reading; its sessions stay, nothing tells the client)...
        a.gateway().stopIngress();
        final java.util.concurrent.CompletableFuture<CommandOutcome> unanswered =
            client.submit(new OpenAccount().set(account, 10));
        // ...so the client opens a watch on the other member, which holds it...
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the watch");
        assertEquals(1, client.watchesOpened());
        // ...and answers it when it takes over: the client follows (its liveness timeout is a minute) and the
        // command that was never answered goes to the new primary
        b.gateway().primaryMemberId(1);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, unanswered));
        assertEquals(1, client.member().id());
        assertEquals(1, client.watchTakeovers());
        assertEquals(1, b.engine().counters().commands());
    }

    @Test
    void aWatchIsAnsweredAfterAChallengeWhenTheNodeAuthenticates() throws Exception
    {
        final Path credentials = dir.resolve("credentials");
        java.nio.file.Files.writeString(credentials, "7 watch-secret *\n");
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5), credentials);
        client = connect(members, "watch-secret");
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");
        a.gateway().primaryMemberId(1);
        b.gateway().primaryMemberId(1);
        pollUntil(() -> client.isConnected() && 1 == client.member().id(), "the client moved to member 1");
        assertEquals(1, client.watchTakeovers());
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(2, 10))));
        assertEquals(0, b.gateway().counters().authFailures.get());
    }

    @Test
    void aPrimaryOfAnOlderOrTheSameEpochDoesNotTakeTheClient() throws Exception
    {
        final List<Member> members = startPair(5, 5, TimeUnit.SECONDS.toNanos(5));
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");

        b.gateway().primaryMemberId(1); // not a takeover: member 0 leads epoch 5 and member 1 claims no newer one
        pollUntil(() -> b.gateway().counters().watchesAnswered.get() >= 1, "member 1 answered the watch");
        pollUntil(() -> b.gateway().counters().sessionsClosed.get() >= 1, "the client closed that session");
        assertEquals(0, client.watchTakeovers());
        assertEquals(0, client.member().id());
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(2, 10))));
        assertEquals(2, a.engine().counters().commands());
        assertEquals(0, b.engine().counters().commands());
    }

    @Test
    void aMemberThatKnowsNoPrimaryYetHoldsAWatchInsteadOfAnsweringItAsThePrimary() throws Exception
    {
        // a replicated node's gateway starts so, before its replication layer knows the roles: starting as its own
        // primary (a lone node's default), member 1 of a newer epoch would take the client from the real primary
        deferWatchPublications = false;
        memberOneStartsWithNoPrimary = true;
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(5));
        assertEquals(GatewayContext.NO_PRIMARY, b.gateway().primaryMemberId());
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1 && 1 == publications(b),
            "member 1 holds the client's watch, its publication to the client added");
        pollFor(TimeUnit.MILLISECONDS.toNanos(300)); // renewals come and go: none may be answered
        assertEquals(0, b.gateway().counters().watchesAnswered.get());
        assertEquals(0, client.watchTakeovers());
        assertEquals(0, client.member().id());

        b.gateway().primaryMemberId(0); // the roles known: member 0 leads
        a.gateway().primaryMemberId(1); // then a takeover, followed through the same watch
        b.gateway().primaryMemberId(1);
        pollUntil(() -> client.isConnected() && 1 == client.member().id(), "the client moved to member 1");
        assertEquals(1, client.watchTakeovers());
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(2, 10))));
    }

    @Test
    void aClientThatConnectsToAMemberNormallyEndsItsWatchThere() throws Exception
    {
        // a session timeout longer than the test's deadline: the watch must end at the CONNECT, not expire
        final List<Member> members = startPair(1, 2, TimeUnit.SECONDS.toNanos(60));
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");

        // member 0 steps down first: the next command gets NOT_PRIMARY and the client connects to member 1 the
        // normal way (member 1 holds that connect, as a standby does while its primary is silent)
        b.gateway().holdConnects(true);
        a.gateway().primaryMemberId(1);
        final java.util.concurrent.CompletableFuture<CommandOutcome> second = client.submit(new OpenAccount().set(2, 10));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 0, "member 1 ended the watch at the CONNECT");
        b.gateway().primaryMemberId(1);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, second));
        assertEquals(1, client.member().id());
        assertEquals(0, b.gateway().counters().watchesAnswered.get());
        assertEquals(1, b.gateway().counters().sessionsActive.get(), "no orphan session from the old watch");
    }

    @Test
    void aWatchIsRenewedWhileTheClientLivesAndDroppedWhenItGoes() throws Exception
    {
        final long sessionTimeoutNs = TimeUnit.MILLISECONDS.toNanos(400);
        final List<Member> members = startPair(1, 1, sessionTimeoutNs);
        client = connect(members, null);
        assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 1, "member 1 holds the client's watch");
        final long untilNs = System.nanoTime() + 5 * sessionTimeoutNs;
        while (System.nanoTime() < untilNs) // renewed every quarter of the session timeout: never expires, one watch
        {
            if (0 == client.poll())
            {
                Thread.yield();
            }
            assertEquals(1, b.gateway().counters().watchesActive.get());
        }
        assertEquals(0, b.gateway().counters().sessionsTimedOut.get());

        client.close();
        pollUntil(() -> b.gateway().counters().watchesActive.get() == 0, "member 1 dropped the watch");
        assertEquals(1, b.gateway().counters().sessionsTimedOut.get());
        assertEquals(0, b.gateway().counters().watchesAnswered.get());
    }

    private List<Member> startPair(final long epochA, final long epochB, final long sessionTimeoutNs)
    {
        return startPair(epochA, epochB, sessionTimeoutNs, null);
    }

    private List<Member> startPair(final long epochA, final long epochB, final long sessionTimeoutNs,
        final Path credentials)
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + freePort() + ":" + freePort() +
            ",1=127.0.0.1:" + freePort() + ":" + freePort());
        a = launch(members, 0, epochA, sessionTimeoutNs, credentials);
        b = launch(members, 1, epochB, sessionTimeoutNs, credentials);
        return members;
    }

    private KeelNode launch(final List<Member> members, final int id, final long epoch, final long sessionTimeoutNs,
        final Path credentials)
    {
        final boolean noPrimary = 1 == id && memberOneStartsWithNoPrimary;
        final KeelNode.Context ctx = new KeelNode.Context().members(members).memberId(id)
            .primaryMemberId(noPrimary ? -1 : 0)
            .dir(dir.resolve("node-" + id)).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE);
        if (noPrimary)
        {
            ctx.gatewayContext().initialPrimaryMemberId(GatewayContext.NO_PRIMARY);
        }
        if (null != credentials)
        {
            ctx.credentialsFile(credentials);
        }
        ctx.gatewayContext().sessionTimeoutNs(sessionTimeoutNs).watchPublicationLingerNs(watchPublicationLingerNs)
            .deferWatchPublications(deferWatchPublications);
        ctx.engineContext().epoch(epoch);
        return KeelNode.launch(ctx);
    }

    /** A client that keeps its watches open all the time (what most tests here are about). */
    private KeelClient connect(final List<Member> members, final String secret)
    {
        return connect(members, secret, 0);
    }

    private KeelClient connect(final List<Member> members, final String secret, final long watchWhenSilentNs)
    {
        final KeelClient.Context ctx = new KeelClient.Context().members(members).clientId(7)
            .commandCodecs(Ledger.domain().commands()).ownThread(false).watchWhenSilentNs(watchWhenSilentNs)
            .keepAliveIntervalNs(TimeUnit.MILLISECONDS.toNanos(50)).livenessTimeoutNs(TimeUnit.MINUTES.toNanos(1))
            .commandTimeoutNs(TimeUnit.SECONDS.toNanos(20)).attemptTimeoutNs(TimeUnit.SECONDS.toNanos(20));
        if (null != secret)
        {
            ctx.secret(secret);
        }
        return KeelClient.connect(ctx);
    }

    /** @return sending channel endpoints (a socket each) the node's driver holds. */
    private static int publications(final KeelNode node)
    {
        try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(node.aeronDirectoryName())))
        {
            // the driver handles its clients' commands in order: once it answered this one, it has handled every
            // publication the node asked for before
            aeron.addSubscription("aeron:ipc", 999).close();
            final int[] count = {0};
            aeron.countersReader().forEach((counterId, typeId, keyBuffer, label) ->
            {
                if (AeronCounters.DRIVER_SEND_CHANNEL_STATUS_TYPE_ID == typeId)
                {
                    count[0]++;
                }
            });
            return count[0];
        }
    }

    /** Keep the client going for a while (time that must pass: the linger), with no condition to wait for. */
    private void pollFor(final long durationNs)
    {
        final long untilNs = System.nanoTime() + durationNs;
        while (System.nanoTime() < untilNs)
        {
            if (0 == client.poll())
            {
                Thread.yield();
            }
        }
    }

    private void pollUntil(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + DEADLINE_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("not within 20 s: " + what);
            }
            if (null == client || 0 == client.poll())
            {
                Thread.yield();
            }
        }
    }
}
