package io.keel.gateway.protocol;

import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The challenge-response proof: HMAC-SHA256(secret, nonce | clientId | sessionId), both ids little-endian.
 * One instance per secret and thread: the key is set once, signing and checking allocate nothing.
 */
public final class Hmac
{
    private final Mac mac;
    private final byte[] ids = new byte[16];
    private final byte[] expected = new byte[Protocol.MAC_LENGTH];

    /**
     * @param secret the shared secret.
     */
    public Hmac(final byte[] secret)
    {
        try
        {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("HmacSHA256 unavailable", ex);
        }
    }

    /**
     * @param nonce     {@link Protocol#NONCE_LENGTH} bytes from the CHALLENGE.
     * @param clientId  client id.
     * @param sessionId session id from the CHALLENGE.
     * @param out       receives {@link Protocol#MAC_LENGTH} bytes.
     */
    public void sign(final byte[] nonce, final long clientId, final long sessionId, final byte[] out)
    {
        for (int i = 0; i < 8; i++)
        {
            ids[i] = (byte)(clientId >>> (8 * i));
            ids[8 + i] = (byte)(sessionId >>> (8 * i));
        }
        mac.update(nonce, 0, Protocol.NONCE_LENGTH);
        mac.update(ids, 0, ids.length);
        try
        {
            mac.doFinal(out, 0);
        }
        catch (final ShortBufferException ex)
        {
            throw new IllegalArgumentException("out must hold " + Protocol.MAC_LENGTH + " bytes", ex);
        }
    }

    /**
     * Constant-time check of a proof.
     *
     * @param nonce     the nonce sent.
     * @param clientId  client id.
     * @param sessionId session id.
     * @param proof     the received MAC.
     * @return true when it matches.
     */
    public boolean verify(final byte[] nonce, final long clientId, final long sessionId, final byte[] proof)
    {
        sign(nonce, clientId, sessionId, expected);
        return MessageDigest.isEqual(expected, proof);
    }
}
