package io.keel.replication;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One member of a replicated pair: {@code id=host:clientPort:replicationPort}, as on the command line
 * ({@code --members 0=127.0.0.1:9100:9200,1=127.0.0.1:9101:9201}).
 */
public final class Member
{
    /** Most members a group may list (a primary and a standby). */
    public static final int MAX_MEMBERS = 2;

    private final int id;
    private final String host;
    private final int clientPort;
    private final int replicationPort;

    /**
     * @param id              member id, 0..255.
     * @param host            host name or address.
     * @param clientPort      port clients send commands to (gateway).
     * @param replicationPort port the replication stream from the peer arrives on.
     */
    public Member(final int id, final String host, final int clientPort, final int replicationPort)
    {
        if (id < 0 || id > 255)
        {
            throw new IllegalArgumentException("member id " + id + " out of range [0, 255]");
        }
        checkPort("clientPort", clientPort);
        checkPort("replicationPort", replicationPort);
        if (null == host || host.isEmpty())
        {
            throw new IllegalArgumentException("member " + id + " has no host");
        }
        this.id = id;
        this.host = host;
        this.clientPort = clientPort;
        this.replicationPort = replicationPort;
    }

    /**
     * Parse a member list: {@code 0=127.0.0.1:9100:9200,1=127.0.0.1:9101:9201}.
     *
     * @param members comma-separated members.
     * @return the members sorted by id.
     * @throws IllegalArgumentException naming the bad entry.
     */
    public static List<Member> parse(final String members)
    {
        final List<Member> result = new ArrayList<>();
        for (final String entry : members.split(","))
        {
            final String trimmed = entry.trim();
            final int equals = trimmed.indexOf('=');
            final String[] parts = equals < 0 ? new String[0] : trimmed.substring(equals + 1).split(":");
            if (equals < 0 || parts.length != 3)
            {
                throw new IllegalArgumentException("member '" + trimmed + "' is not id=host:clientPort:replicationPort");
            }
            try
            {
                result.add(new Member(Integer.parseInt(trimmed.substring(0, equals)), parts[0],
                    Integer.parseInt(parts[1]), Integer.parseInt(parts[2])));
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("member '" + trimmed + "' has a non-numeric id or port", ex);
            }
        }
        result.sort((a, b) -> Integer.compare(a.id, b.id));
        for (int i = 1; i < result.size(); i++)
        {
            if (result.get(i).id == result.get(i - 1).id)
            {
                throw new IllegalArgumentException("member id " + result.get(i).id + " is listed twice");
            }
        }
        return Collections.unmodifiableList(result);
    }

    /** @return member id. */
    public int id()
    {
        return id;
    }

    /** @return host name or address. */
    public String host()
    {
        return host;
    }

    /** @return client (gateway) port. */
    public int clientPort()
    {
        return clientPort;
    }

    /** @return port this member receives the replication stream on. */
    public int replicationPort()
    {
        return replicationPort;
    }

    /** @return Aeron UDP channel addressing this member's replication endpoint. */
    public String replicationEndpoint()
    {
        return host + ":" + replicationPort;
    }

    @Override
    public String toString()
    {
        return id + "=" + host + ":" + clientPort + ":" + replicationPort;
    }

    private static void checkPort(final String name, final int port)
    {
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException(name + " " + port + " out of range [1, 65535]");
        }
    }
}
