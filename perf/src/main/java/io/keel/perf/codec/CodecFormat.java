package io.keel.perf.codec;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import net.openhft.chronicle.wire.WriteMarshallable;

import java.util.Locale;

/**
 * One way of putting a ledger event into bytes and back, over buffers made once and reused: {@link #encode()} writes
 * the source event, {@link #decode()} reads the encoded form of that event into the target event. The codec
 * benchmark calls these, and so does the test that checks each format reads back what it wrote.
 */
public abstract class CodecFormat implements AutoCloseable
{
    /** Largest encoded event in bytes; the buffers are this size and never grow. */
    public static final int MAX_EVENT_BYTES = 256;

    final Event source;
    final Event target;
    final Bytes<?> out = Bytes.allocateDirect(MAX_EVENT_BYTES);
    final Bytes<?> in = Bytes.allocateDirect(MAX_EVENT_BYTES);

    CodecFormat(final Event source, final Event target)
    {
        this.source = source;
        this.target = target;
    }

    /**
     * The three formats the codec benchmark compares.
     */
    public enum Kind
    {
        /** Keel's journal form: the event's own field-less {@code writeMarshallable(BytesOut)}, stop-bit numbers. */
        KEEL_BINARY("keel-binary"),
        /** Chronicle Wire's self-describing {@code BinaryWire}: field names and typed values, no type header. */
        WIRE_BINARY("wire-binary"),
        /** Chronicle Wire's {@code JSONWire}: one JSON object, {@code {"account":1000042,"amount":12345}}. */
        JSON("json");

        private final String label;

        Kind(final String label)
        {
            this.label = label;
        }

        /** @return the name in tables and {@code summary.json}. */
        public String label()
        {
            return label;
        }

        /**
         * @param text a label or a constant name, any case.
         * @return the kind.
         */
        public static Kind parse(final String text)
        {
            for (final Kind kind : values())
            {
                if (kind.label.equalsIgnoreCase(text) || kind.name().equalsIgnoreCase(text))
                {
                    return kind;
                }
            }
            throw new IllegalArgumentException("unknown codec format '" + text + "': keel-binary, wire-binary or json");
        }
    }

    /**
     * Makes a format for one event, with its encoded form already in the input buffer.
     *
     * @param kind   which format.
     * @param source the filled event to encode.
     * @param target an empty event of the same class to decode into.
     * @return the format.
     */
    public static CodecFormat of(final Kind kind, final Event source, final Event target)
    {
        if (source.getClass() != target.getClass())
        {
            throw new IllegalArgumentException("source and target must be the same event class, were " +
                source.getClass().getSimpleName() + " and " + target.getClass().getSimpleName());
        }
        final CodecFormat format;
        switch (kind)
        {
            case KEEL_BINARY:
                format = new KeelBinary(source, target);
                break;
            case WIRE_BINARY:
                format = new WireFormat(WireType.BINARY, false, source, target);
                break;
            case JSON:
                format = new WireFormat(WireType.JSON_ONLY, true, source, target);
                break;
            default:
                throw new IllegalStateException("unhandled " + kind);
        }
        format.prime();
        return format;
    }

    /**
     * Encodes the source event into the reused output buffer.
     *
     * @return bytes written.
     */
    public abstract long encode();

    /**
     * Decodes the source event's encoded form into the reused target event.
     *
     * @return the target event.
     */
    public abstract Event decode();

    /**
     * @return encoded size of the source event in bytes.
     */
    public long encodedSizeBytes()
    {
        return in.readLimit();
    }

    /**
     * @return the encoded source event as text (JSON as is; binary as hex), for the report.
     */
    public String encodedText()
    {
        final StringBuilder text = new StringBuilder();
        for (long i = 0; i < in.readLimit(); i++)
        {
            text.append(String.format(Locale.ROOT, "%02x", in.readUnsignedByte(i)));
        }
        return text.toString();
    }

    @Override
    public void close()
    {
        out.releaseLast();
        in.releaseLast();
    }

    abstract void prime();

    static final class KeelBinary extends CodecFormat
    {
        KeelBinary(final Event source, final Event target)
        {
            super(source, target);
        }

        @Override
        void prime()
        {
            in.clear();
            source.writeMarshallable(in);
        }

        @Override
        public long encode()
        {
            out.clear();
            source.writeMarshallable(out);
            return out.writePosition();
        }

        @Override
        public Event decode()
        {
            in.readPosition(0);
            target.readMarshallable(in);
            return target;
        }
    }

    static final class WireFormat extends CodecFormat
    {
        private final boolean object;
        private final Wire outWire;
        private final Wire inWire;

        WireFormat(final WireType wireType, final boolean object, final Event source, final Event target)
        {
            super(source, target);
            this.object = object;
            this.outWire = wireType.apply(out);
            this.inWire = wireType.apply(in);
        }

        @Override
        void prime()
        {
            inWire.clear();
            write(inWire);
        }

        private void write(final Wire wire)
        {
            if (object)
            {
                wire.getValueOut().marshallable((WriteMarshallable)source);
            }
            else
            {
                source.writeMarshallable(wire);
            }
        }

        @Override
        public long encode()
        {
            outWire.clear();
            write(outWire);
            return out.writePosition();
        }

        @Override
        public Event decode()
        {
            in.readPosition(0);
            if (object)
            {
                inWire.getValueIn().marshallable(target, net.openhft.chronicle.wire.SerializationStrategies.MARSHALLABLE);
            }
            else
            {
                target.readMarshallable(inWire);
            }
            return target;
        }

        @Override
        public String encodedText()
        {
            return object ? in.toString() : super.encodedText();
        }
    }
}
