package io.keel.perf.aeron;

import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.keel.gateway.LoopbackPorts;
import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.SystemUnderTest;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw Aeron UDP ping-pong over 127.0.0.1 with an embedded media driver (SHARED threading: conductor, sender and
 * receiver on one thread): the load thread offers a ping carrying its intended send time, an echo agent sends
 * it straight back on a second stream, and the load thread records the round trip when the pong arrives. The
 * echo agent shares the load thread's duty cycle (two hot threads: driver and client, fitting two cores) or,
 * with {@code pongThread}, gets its own thread. The Aeron directory lives under {@code /dev/shm} (or the temp
 * dir) and is deleted on close.
 */
public final class AeronPingPong implements SystemUnderTest
{
    /**
     * Stream carrying pings, client to echo.
     */
    public static final int PING_STREAM_ID = 1001;

    /**
     * Stream carrying pongs, echo to client.
     */
    public static final int PONG_STREAM_ID = 1002;

    private static final String LOOPBACK = "127.0.0.1";
    private static final int FRAGMENT_LIMIT = 16;
    private static final int TERM_LENGTH_BYTES = 4 * 1024 * 1024;
    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final File aeronDirectory;
    private final int messageSizeBytes;
    private final LatencyRecorder recorder;
    private final List<Thread> serviceThreads = new ArrayList<>();
    private final AtomicLong completed = new AtomicLong();
    private final IdleStrategy sendIdleStrategy;
    private final UnsafeBuffer sendBuffer;
    private MediaDriver driver;
    private Aeron aeron;
    private Publication pingPublication;
    private Subscription pingSubscription;
    private Publication pongPublication;
    private Subscription pongSubscription;
    private FragmentHandler pongHandler;
    private EchoAgent echoAgent;
    private AgentRunner echoRunner;
    private long completedCount;
    private long dropped;

    private AeronPingPong(
        final File aeronDirectory, final int messageSizeBytes, final IdleMode idleMode, final LatencyRecorder recorder)
    {
        this.aeronDirectory = aeronDirectory;
        this.messageSizeBytes = messageSizeBytes;
        this.recorder = recorder;
        this.sendIdleStrategy = idleMode.newIdleStrategy();
        this.sendBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(64, messageSizeBytes), 64));
    }

    /**
     * Starts a driver, a client, both streams and the echo agent, and waits until both directions connect.
     *
     * @param messageSizeBytes ping and pong size, at least 16 (the intended time is the first 8 bytes).
     * @param idleMode         idle strategy of the driver, the echo agent and the load thread's waits.
     * @param pongThread       run the echo agent on its own thread rather than in the load thread's duty cycle.
     * @param recorder         where round-trip times go (written by the load thread).
     * @return the started ping-pong; close it to stop everything and delete the Aeron directory.
     */
    public static AeronPingPong launch(
        final int messageSizeBytes, final IdleMode idleMode, final boolean pongThread, final LatencyRecorder recorder)
    {
        if (messageSizeBytes < 16)
        {
            throw new IllegalArgumentException("message size must be >= 16 bytes, was: " + messageSizeBytes);
        }
        final AeronPingPong pingPong = new AeronPingPong(newAeronDirectory(), messageSizeBytes, idleMode, recorder);
        try
        {
            pingPong.start(idleMode, pongThread);
            return pingPong;
        }
        catch (final RuntimeException ex)
        {
            pingPong.close();
            throw ex;
        }
    }

    private void start(final IdleMode idleMode, final boolean pongThread)
    {
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .aeronDirectoryName(aeronDirectory.getAbsolutePath())
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(idleMode.newIdleStrategy())
            .sharedThreadFactory(this::newDriverThread)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .termBufferSparseFile(true)
            .publicationTermBufferLength(TERM_LENGTH_BYTES)
            .warnIfDirectoryExists(false));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));

        final String pingChannel = "aeron:udp?endpoint=" + LOOPBACK + ":" + freeLoopbackPort();
        final String pongChannel = "aeron:udp?endpoint=" + LOOPBACK + ":" + freeLoopbackPort();
        pingSubscription = aeron.addSubscription(pingChannel, PING_STREAM_ID);
        pongSubscription = aeron.addSubscription(pongChannel, PONG_STREAM_ID);
        pingPublication = aeron.addPublication(pingChannel, PING_STREAM_ID);
        pongPublication = aeron.addPublication(pongChannel, PONG_STREAM_ID);

        if (messageSizeBytes > pingPublication.maxMessageLength())
        {
            throw new IllegalArgumentException("message size must be <= " + pingPublication.maxMessageLength() +
                " bytes for this term length, was: " + messageSizeBytes);
        }

        pongHandler = new FragmentAssembler(this::onPong);
        echoAgent = new EchoAgent(pingSubscription, pongPublication, pongThread ? null : this::pollPongs, idleMode);
        if (pongThread)
        {
            echoRunner = new AgentRunner(
                idleMode.newIdleStrategy(), Throwable::printStackTrace, null, echoAgent);
            final Thread thread = AgentRunner.startOnThread(echoRunner, r -> new Thread(r, "keel-perf-echo"));
            serviceThreads.add(thread);
        }

        final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
        while (!pingPublication.isConnected() || !pongPublication.isConnected())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("Aeron ping/pong streams did not connect on " + LOOPBACK +
                    " within 10s (aeron dir " + aeronDirectory + ")");
            }
            sendIdleStrategy.idle(0);
        }
        sendIdleStrategy.reset();
    }

    @Override
    public void send(final long intendedNs)
    {
        final UnsafeBuffer buffer = sendBuffer;
        buffer.putLong(0, intendedNs);
        long result;
        while ((result = pingPublication.offer(buffer, 0, messageSizeBytes)) < 0)
        {
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("ping publication failed: " + Publication.errorString(result));
            }
            sendIdleStrategy.idle(poll());
        }
        sendIdleStrategy.reset();
    }

    /**
     * Closed-loop round trips whose latencies are recorded but discarded by the next run's warm-up: warms the
     * JIT before anything is measured.
     *
     * @param roundTrips how many.
     */
    public void prime(final int roundTrips)
    {
        final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
        for (int i = 0; i < roundTrips && System.nanoTime() - deadlineNs < 0; i++)
        {
            final long target = completedCount() + 1;
            send(System.nanoTime());
            while (completedCount() < target && System.nanoTime() - deadlineNs < 0)
            {
                sendIdleStrategy.idle(poll());
            }
            sendIdleStrategy.reset();
        }
    }

    @Override
    public int poll()
    {
        int work = pollPongs();
        if (null == echoRunner)
        {
            work += echoAgent.doWork();
        }
        return work;
    }

    @Override
    public long completedCount()
    {
        return completed.get();
    }

    @Override
    public List<Thread> serviceThreads()
    {
        return serviceThreads;
    }

    /**
     * Pongs the echo could not send because the client's subscription was gone.
     *
     * @return the count, 0 in a healthy run.
     */
    public long droppedCount()
    {
        return dropped + (null == echoAgent ? 0 : echoAgent.dropped);
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(echoRunner, aeron, driver);
        IoUtil.delete(aeronDirectory, true);
    }

    private int pollPongs()
    {
        return pongSubscription.poll(pongHandler, FRAGMENT_LIMIT);
    }

    private void onPong(final DirectBuffer buffer, final int offset, final int length, final io.aeron.logbuffer.Header header)
    {
        recorder.recordLatencyNs(System.nanoTime() - buffer.getLong(offset));
        completed.lazySet(++completedCount);
    }

    private Thread newDriverThread(final Runnable runnable)
    {
        final Thread thread = new Thread(runnable, "keel-perf-driver");
        serviceThreads.add(thread);
        return thread;
    }

    private static File newAeronDirectory()
    {
        final File shm = new File("/dev/shm");
        final File base = shm.isDirectory() && shm.canWrite() ? shm : new File(System.getProperty("java.io.tmpdir"));
        return new File(base, "keel-perf-aeron-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    private static int freeLoopbackPort()
    {
        return LoopbackPorts.freePort();
    }

    /**
     * Sends every ping straight back as a pong.
     */
    static final class EchoAgent implements Agent
    {
        private final Subscription pingSubscription;
        private final Publication pongPublication;
        private final java.util.function.IntSupplier rescue;
        private final IdleStrategy backPressureIdle;
        private final FragmentHandler echoHandler;
        private long dropped;

        EchoAgent(
            final Subscription pingSubscription,
            final Publication pongPublication,
            final java.util.function.IntSupplier rescue,
            final IdleMode idleMode)
        {
            this.pingSubscription = pingSubscription;
            this.pongPublication = pongPublication;
            this.rescue = rescue;
            this.backPressureIdle = idleMode.newIdleStrategy();
            this.echoHandler = new FragmentAssembler(this::echo);
        }

        @Override
        public int doWork()
        {
            return pingSubscription.poll(echoHandler, FRAGMENT_LIMIT);
        }

        @Override
        public String roleName()
        {
            return "keel-perf-echo";
        }

        private void echo(final DirectBuffer buffer, final int offset, final int length, final io.aeron.logbuffer.Header header)
        {
            long result;
            while ((result = pongPublication.offer(buffer, offset, length)) < 0)
            {
                if (Publication.NOT_CONNECTED == result)
                {
                    dropped++;
                    return;
                }
                if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
                {
                    throw new IllegalStateException("pong publication failed: " + Publication.errorString(result));
                }
                // In the shared duty cycle the client's own pong subscription is what drains this back pressure.
                backPressureIdle.idle(null == rescue ? 0 : rescue.getAsInt());
            }
            backPressureIdle.reset();
        }
    }
}
