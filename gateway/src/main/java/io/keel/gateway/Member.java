package io.keel.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One member of a Keel cluster as written on the command line: {@code id=host:clientPort:replicationPort}.
 *
 * @param id              member id, unique in the list.
 * @param host            IP address or host name the member's gateway and replicator bind to.
 * @param clientPort      UDP port of the gateway's ingress.
 * @param replicationPort UDP port of the replicator.
 */
public record Member(int id, String host, int clientPort, int replicationPort)
{
    /** Most members in a list. */
    public static final int MAX_MEMBERS = 16;

    /** @return the gateway endpoint, {@code host:clientPort}. */
    public String clientEndpoint()
    {
        return host + ":" + clientPort;
    }

    /** @return the Aeron channel of the gateway's ingress. */
    public String ingressChannel()
    {
        return "aeron:udp?endpoint=" + clientEndpoint();
    }

    /**
     * Parse a member list: {@code 0=127.0.0.1:9100:9200,1=127.0.0.1:9101:9201}. The replication port may be
     * left out ({@code 0=127.0.0.1:9100}) by clients, which only need the client port.
     *
     * @param text the list.
     * @return members in the order given.
     * @throws IllegalArgumentException naming the bad entry.
     */
    public static List<Member> parseList(final String text)
    {
        if (null == text || text.isBlank())
        {
            throw new IllegalArgumentException("--members is empty: expected id=host:clientPort:replicationPort,...");
        }
        final List<Member> members = new ArrayList<>();
        for (final String entry : text.split(","))
        {
            final Member member = parse(entry.trim());
            for (final Member other : members)
            {
                if (other.id == member.id)
                {
                    throw new IllegalArgumentException("member id " + member.id + " appears twice in '" + text + "'");
                }
                if (other.host.equals(member.host) && (other.clientPort == member.clientPort ||
                    (member.replicationPort != 0 && other.replicationPort == member.replicationPort)))
                {
                    throw new IllegalArgumentException("members " + other.id + " and " + member.id +
                        " share a port on " + member.host);
                }
            }
            members.add(member);
        }
        if (members.size() > MAX_MEMBERS)
        {
            throw new IllegalArgumentException(members.size() + " members: at most " + MAX_MEMBERS);
        }
        return Collections.unmodifiableList(members);
    }

    /**
     * @param entry {@code id=host:clientPort[:replicationPort]}.
     * @return the member.
     */
    public static Member parse(final String entry)
    {
        final int eq = entry.indexOf('=');
        if (eq <= 0)
        {
            throw new IllegalArgumentException("member '" + entry + "': expected id=host:clientPort:replicationPort");
        }
        final int id = number(entry, entry.substring(0, eq), "id", 0, MAX_MEMBERS * 64);
        final String[] parts = entry.substring(eq + 1).split(":");
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty())
        {
            throw new IllegalArgumentException("member '" + entry + "': expected id=host:clientPort:replicationPort");
        }
        final int clientPort = number(entry, parts[1], "client port", 1, 65535);
        final int replicationPort = parts.length == 3 ? number(entry, parts[2], "replication port", 1, 65535) : 0;
        if (clientPort == replicationPort)
        {
            throw new IllegalArgumentException("member '" + entry + "': client and replication ports are the same");
        }
        return new Member(id, parts[0], clientPort, replicationPort);
    }

    private static int number(final String entry, final String text, final String what, final int min, final int max)
    {
        try
        {
            final int value = Integer.parseInt(text.trim());
            if (value < min || value > max)
            {
                throw new IllegalArgumentException("member '" + entry + "': " + what + " " + value +
                    " out of range [" + min + ", " + max + "]");
            }
            return value;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("member '" + entry + "': " + what + " '" + text + "' is not a number");
        }
    }

    @Override
    public String toString()
    {
        return id + "=" + host + ":" + clientPort + (replicationPort != 0 ? ":" + replicationPort : "");
    }
}
