using System.Buffers;
using System.Buffers.Text;

namespace RTorrent.Engine.Bencode;

/// <summary>Encodes bencode canonically: dictionary keys sorted by raw bytes, duplicates dropped (first kept).</summary>
public static class BencodeWriter
{
    /// <summary>Encodes a value into a new array.</summary>
    public static byte[] Encode(BValue value)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        Write(writer, value);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a value into a buffer writer.</summary>
    public static void Write(IBufferWriter<byte> writer, BValue value)
    {
        switch (value)
        {
            case BInteger i:
                WriteInteger(writer, i.Value);
                break;
            case BString s:
                WriteString(writer, s.Bytes.Span);
                break;
            case BList l:
                WriteByte(writer, (byte)'l');
                foreach (var item in l) Write(writer, item);
                WriteByte(writer, (byte)'e');
                break;
            case BDictionary d:
                WriteByte(writer, (byte)'d');
                var entries = d.Entries.ToArray();
                // Stable sort keeps the first of repeated keys first; the later ones are skipped.
                var sorted = entries.Select((e, i) => (e, i))
                    .OrderBy(x => x.e.Key.Bytes, ByteComparer.Instance).ThenBy(x => x.i).Select(x => x.e).ToArray();
                ReadOnlyMemory<byte>? previous = null;
                foreach (var (k, v) in sorted)
                {
                    if (previous is { } p && p.Span.SequenceEqual(k.Bytes.Span)) continue;
                    WriteString(writer, k.Bytes.Span);
                    Write(writer, v);
                    previous = k.Bytes;
                }
                WriteByte(writer, (byte)'e');
                break;
            default:
                throw new ArgumentException($"Unknown bencode value type {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>Writes <c>i&lt;n&gt;e</c>.</summary>
    public static void WriteInteger(IBufferWriter<byte> writer, long value)
    {
        var span = writer.GetSpan(22);
        span[0] = (byte)'i';
        Utf8Formatter.TryFormat(value, span[1..], out int n);
        span[1 + n] = (byte)'e';
        writer.Advance(n + 2);
    }

    /// <summary>Writes <c>&lt;len&gt;:&lt;bytes&gt;</c>.</summary>
    public static void WriteString(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        var span = writer.GetSpan(21 + bytes.Length);
        Utf8Formatter.TryFormat(bytes.Length, span, out int n);
        span[n] = (byte)':';
        bytes.CopyTo(span[(n + 1)..]);
        writer.Advance(n + 1 + bytes.Length);
    }

    private static void WriteByte(IBufferWriter<byte> writer, byte b)
    {
        writer.GetSpan(1)[0] = b;
        writer.Advance(1);
    }

    private sealed class ByteComparer : IComparer<ReadOnlyMemory<byte>>
    {
        public static readonly ByteComparer Instance = new();
        public int Compare(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceCompareTo(y.Span);
    }
}
