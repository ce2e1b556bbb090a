package io.keel.gateway;

import io.keel.engine.CommandCodecs;
import org.agrona.collections.Long2ObjectHashMap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Who may connect, with which secret, and which command types each may send. Read from a text file, one
 * principal per line:
 * <pre>
 * # clientId  secret          allowed command types (ids, comma separated; "*" = all; "query" = may read state)
 * 1           bank-secret     *
 * 2           teller-secret   1,2,query
 * </pre>
 * The secret never travels: the node sends a random nonce and the client answers with
 * HMAC-SHA256(secret, nonce | clientId | sessionId). Keep the file readable by the node's user only.
 */
public final class Credentials
{
    /** Most principals in one file. */
    public static final int MAX_PRINCIPALS = 4096;
    /** Longest secret, bytes. */
    public static final int MAX_SECRET_LENGTH = 256;
    /** Shortest secret, bytes. */
    public static final int MIN_SECRET_LENGTH = 8;

    private final Long2ObjectHashMap<Principal> byClientId = new Long2ObjectHashMap<>();

    /**
     * One client's credentials and permissions.
     */
    public static final class Principal
    {
        private final long clientId;
        private final byte[] secret;
        private final boolean[] allowedTypes = new boolean[CommandCodecs.MAX_TYPE_ID + 1];
        private boolean mayQuery;

        Principal(final long clientId, final byte[] secret)
        {
            this.clientId = clientId;
            this.secret = secret;
        }

        /** @return client id. */
        public long clientId()
        {
            return clientId;
        }

        byte[] secret()
        {
            return secret;
        }

        /**
         * @param commandType type id.
         * @return true when the principal may send it.
         */
        public boolean maySend(final int commandType)
        {
            return commandType > 0 && commandType <= CommandCodecs.MAX_TYPE_ID && allowedTypes[commandType];
        }

        /** @return true when the principal may read state (QUERY). */
        public boolean mayQuery()
        {
            return mayQuery;
        }
    }

    /**
     * Read a credentials file.
     *
     * @param file the file.
     * @return the credentials.
     * @throws IllegalArgumentException naming the file and line of the first problem.
     */
    public static Credentials read(final Path file)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read credentials file " + file + ": " + ex);
        }
        final Credentials credentials = new Credentials();
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            try
            {
                credentials.add(line);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + ex.getMessage());
            }
        }
        if (credentials.byClientId.isEmpty())
        {
            throw new IllegalArgumentException(file + " has no principals: nobody could connect");
        }
        return credentials;
    }

    private void add(final String line)
    {
        final String[] fields = line.split("\\s+");
        if (fields.length != 3)
        {
            throw new IllegalArgumentException("expected 'clientId secret types', found " + fields.length + " fields");
        }
        final long clientId;
        try
        {
            clientId = Long.parseLong(fields[0]);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("client id '" + fields[0] + "' is not a number");
        }
        if (clientId <= 0)
        {
            throw new IllegalArgumentException("client id " + clientId + " must be > 0");
        }
        if (byClientId.containsKey(clientId))
        {
            throw new IllegalArgumentException("client id " + clientId + " appears twice");
        }
        final byte[] secret = fields[1].getBytes(StandardCharsets.UTF_8);
        if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH)
        {
            throw new IllegalArgumentException("secret of client " + clientId + " must be " + MIN_SECRET_LENGTH +
                ".." + MAX_SECRET_LENGTH + " bytes");
        }
        final Principal principal = new Principal(clientId, secret);
        for (final String type : fields[2].split(","))
        {
            if ("*".equals(type))
            {
                java.util.Arrays.fill(principal.allowedTypes, 1, principal.allowedTypes.length, true);
                principal.mayQuery = true;
            }
            else if ("query".equals(type))
            {
                principal.mayQuery = true;
            }
            else
            {
                final int id;
                try
                {
                    id = Integer.parseInt(type);
                }
                catch (final NumberFormatException ex)
                {
                    throw new IllegalArgumentException("command type '" + type + "' is not a number, '*' or 'query'");
                }
                if (id <= 0 || id > CommandCodecs.MAX_TYPE_ID)
                {
                    throw new IllegalArgumentException("command type " + id + " out of range [1, " +
                        CommandCodecs.MAX_TYPE_ID + "]");
                }
                principal.allowedTypes[id] = true;
            }
        }
        if (byClientId.size() >= MAX_PRINCIPALS)
        {
            throw new IllegalArgumentException("more than " + MAX_PRINCIPALS + " principals");
        }
        byClientId.put(clientId, principal);
    }

    /**
     * @param clientId client id.
     * @return its principal, or null.
     */
    public Principal principal(final long clientId)
    {
        return byClientId.get(clientId);
    }

    /** @return number of principals. */
    public int size()
    {
        return byClientId.size();
    }
}
