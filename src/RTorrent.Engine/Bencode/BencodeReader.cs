namespace RTorrent.Engine.Bencode;

/// <summary>What a decoder accepts.</summary>
public sealed record BencodeReaderOptions
{
    /// <summary>The defaults: strict, depth 100, two million values, 128 MiB.</summary>
    public static BencodeReaderOptions Default { get; } = new();

    /// <summary>Like <see cref="Default"/> but accepts the non-canonical integers libtorrent accepts (<c>i01e</c>, <c>i-0e</c>, <c>06:</c>).</summary>
    public static BencodeReaderOptions Lenient { get; } = new() { Strict = false };

    /// <summary>Containers nested this deep are refused (99 levels decode at 100).</summary>
    public int MaxDepth { get; init; } = 100;

    /// <summary>More values than this are refused.</summary>
    public int MaxItems { get; init; } = 2_000_000;

    /// <summary>Inputs longer than this are refused before decoding starts.</summary>
    public int MaxInputLength { get; init; } = 128 * 1024 * 1024;

    /// <summary>
    /// Refuse non-canonical numbers: integers with leading zeros or <c>-0</c>, and string lengths with leading zeros.
    /// Unsorted or repeated dictionary keys are never refused here (real torrents have them); they are reported
    /// through <see cref="BDictionary.KeysCanonical"/>.
    /// </summary>
    public bool Strict { get; init; } = true;
}

/// <summary>How decoding failed; named after libtorrent's bdecode errors where one matches.</summary>
public enum BencodeError
{
    /// <summary>A digit was expected.</summary>
    ExpectedDigit,
    /// <summary>A ':' was expected after a string length.</summary>
    ExpectedColon,
    /// <summary>The input ended inside a value.</summary>
    UnexpectedEnd,
    /// <summary>A byte that cannot start a value.</summary>
    ExpectedValue,
    /// <summary>Nesting deeper than the limit.</summary>
    DepthExceeded,
    /// <summary>More values than the limit.</summary>
    LimitExceeded,
    /// <summary>A number that does not fit in 64 bits (or a string length beyond the input).</summary>
    Overflow,
    /// <summary>A non-canonical number refused by a strict decoder.</summary>
    NonCanonical,
    /// <summary>The input is larger than the size limit.</summary>
    InputTooLarge,
}

/// <summary>Bencode that cannot be decoded. The message says what was expected at which byte offset.</summary>
public sealed class BencodeException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public BencodeException(BencodeError error, long offset, string message)
        : base($"{message} at byte {offset}")
    {
        Error = error;
        Offset = offset;
    }

    /// <summary>What went wrong.</summary>
    public BencodeError Error { get; }

    /// <summary>Byte offset in the input where decoding stopped.</summary>
    public long Offset { get; }
}

/// <summary>
/// Decodes bencode (BEP 3) from memory. Iterative, so hostile nesting cannot overflow the stack; strings are slices
/// of the input, never copies.
/// </summary>
public static class BencodeReader
{
    /// <summary>Decodes the first value of <paramref name="input"/>; bytes after it are ignored.</summary>
    public static BValue Decode(ReadOnlyMemory<byte> input, BencodeReaderOptions? options = null) =>
        Decode(input, out _, options);

    /// <summary>Decodes the first value and tells how many bytes it took.</summary>
    public static BValue Decode(ReadOnlyMemory<byte> input, out int consumed, BencodeReaderOptions? options = null)
    {
        options ??= BencodeReaderOptions.Default;
        if (input.Length > options.MaxInputLength)
            throw new BencodeException(BencodeError.InputTooLarge, 0,
                $"Input of {input.Length} bytes is larger than the limit of {options.MaxInputLength} bytes");
        var parser = new Parser(input, options);
        var value = parser.Run();
        consumed = parser.Position;
        return value;
    }

    /// <summary>Decodes a value that must be a dictionary.</summary>
    public static BDictionary DecodeDictionary(ReadOnlyMemory<byte> input, BencodeReaderOptions? options = null)
    {
        var v = Decode(input, options);
        return v as BDictionary ?? throw new BencodeException(BencodeError.ExpectedValue, 0, "Expected a dictionary ('d')");
    }

    private struct Frame
    {
        public int Start;
        public List<BValue>? List;
        public List<KeyValuePair<BString, BValue>>? Entries;
        public BString? PendingKey;
        public bool Canonical;
    }

    private sealed class Parser(ReadOnlyMemory<byte> input, BencodeReaderOptions options)
    {
        private readonly ReadOnlyMemory<byte> _input = input;
        private readonly BencodeReaderOptions _options = options;
        private readonly List<Frame> _stack = [];
        private int _items;
        public int Position;

        public BValue Run()
        {
            var span = _input.Span;
            while (true)
            {
                BValue? completed = null;
                if (_stack.Count > 0 && _stack[^1].Entries is not null && _stack[^1].PendingKey is null)
                {
                    // Inside a dictionary, waiting for a key or its end.
                    if (Position >= span.Length) throw Fail(BencodeError.UnexpectedEnd, "Expected a dictionary key or 'e'");
                    if (span[Position] == (byte)'e')
                    {
                        completed = CloseContainer();
                    }
                    else
                    {
                        if (!IsDigit(span[Position])) throw Fail(BencodeError.ExpectedDigit, "Expected a string key (a digit)");
                        var key = ReadString(span);
                        var frame = _stack[^1];
                        var entries = frame.Entries!;
                        if (entries.Count > 0 && frame.Canonical &&
                            entries[^1].Key.Bytes.Span.SequenceCompareTo(key.Bytes.Span) >= 0)
                            frame.Canonical = false;
                        frame.PendingKey = key;
                        _stack[^1] = frame;
                        continue;
                    }
                }
                else
                {
                    if (Position >= span.Length)
                        throw Fail(BencodeError.UnexpectedEnd, _stack.Count == 0 ? "Expected a value" : "Expected a value or 'e'");
                    byte b = span[Position];
                    switch (b)
                    {
                        case (byte)'i':
                            completed = ReadInteger(span);
                            break;
                        case (byte)'l':
                        case (byte)'d':
                            CountItem();
                            if (_stack.Count + 1 >= _options.MaxDepth)
                                throw Fail(BencodeError.DepthExceeded, $"Nesting deeper than {_options.MaxDepth - 1} levels");
                            _stack.Add(b == (byte)'l'
                                ? new Frame { Start = Position, List = [] }
                                : new Frame { Start = Position, Entries = [], Canonical = true });
                            Position++;
                            continue;
                        case (byte)'e' when _stack.Count > 0 && _stack[^1].List is not null:
                            completed = CloseContainer();
                            break;
                        case (byte)'e' when _stack.Count == 0:
                            throw Fail(BencodeError.UnexpectedEnd, "Expected a value, found 'e'");
                        default:
                            if (IsDigit(b)) completed = ReadString(span);
                            else throw Fail(BencodeError.ExpectedValue, $"Expected a value ('i', 'l', 'd' or a digit), found 0x{b:x2}");
                            break;
                    }
                }

                if (_stack.Count == 0) return completed;
                var top = _stack[^1];
                if (top.List is not null)
                {
                    top.List.Add(completed);
                }
                else
                {
                    top.Entries!.Add(new(top.PendingKey!, completed));
                    top.PendingKey = null;
                    _stack[^1] = top;
                }
            }
        }

        private BValue CloseContainer()
        {
            var frame = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            Position++; // 'e'
            BValue v;
            if (frame.List is not null)
            {
                v = new BList(frame.List, true);
            }
            else
            {
                // A repeated key is non-canonical too; the ascending check above already catches it.
                v = new BDictionary(frame.Entries!, frame.Canonical);
            }
            v.Source = _input;
            v.SourceOffset = frame.Start;
            v.SourceLength = Position - frame.Start;
            return v;
        }

        private void CountItem()
        {
            if (++_items > _options.MaxItems)
                throw Fail(BencodeError.LimitExceeded, $"More than {_options.MaxItems} values");
        }

        private BInteger ReadInteger(ReadOnlySpan<byte> span)
        {
            CountItem();
            int start = Position;
            Position++; // 'i'
            bool negative = false;
            if (Position < span.Length && span[Position] == (byte)'-')
            {
                negative = true;
                Position++;
            }
            int digitsStart = Position;
            ulong magnitude = 0;
            bool overflow = false;
            while (true)
            {
                if (Position >= span.Length) throw Fail(BencodeError.UnexpectedEnd, "Expected a digit or 'e' in an integer");
                byte c = span[Position];
                if (c == (byte)'e') break;
                if (!IsDigit(c)) throw Fail(BencodeError.ExpectedDigit, "Expected a digit in an integer");
                if (Position - digitsStart >= 20) throw Fail(BencodeError.Overflow, "Integer has more than 20 digits");
                ulong next = magnitude * 10 + (ulong)(c - '0');
                if (magnitude > ulong.MaxValue / 10 || next < magnitude) overflow = true;
                magnitude = next;
                Position++;
            }
            int digits = Position - digitsStart;
            if (digits == 0) throw Fail(BencodeError.ExpectedDigit, "Expected a digit in an integer");
            if (_options.Strict)
            {
                if (digits > 1 && span[digitsStart] == (byte)'0')
                    throw Fail(BencodeError.NonCanonical, "Integer with a leading zero", digitsStart);
                if (negative && magnitude == 0)
                    throw Fail(BencodeError.NonCanonical, "Negative zero", digitsStart);
            }
            long value;
            if (overflow || (!negative && magnitude > long.MaxValue) || (negative && magnitude > (ulong)long.MaxValue + 1))
                throw Fail(BencodeError.Overflow, "Integer does not fit in 64 bits", digitsStart);
            value = negative ? (long)(0 - magnitude) : (long)magnitude;
            Position++; // 'e'
            return new BInteger(value) { Source = _input, SourceOffset = start, SourceLength = Position - start };
        }

        private BString ReadString(ReadOnlySpan<byte> span)
        {
            CountItem();
            int start = Position;
            long length = 0;
            while (true)
            {
                if (Position >= span.Length) throw Fail(BencodeError.UnexpectedEnd, "Expected ':' after a string length");
                byte c = span[Position];
                if (c == (byte)':') break;
                if (!IsDigit(c)) throw Fail(BencodeError.ExpectedColon, "Expected ':' after a string length");
                if (length > (long.MaxValue - (c - '0')) / 10) throw Fail(BencodeError.Overflow, "String length does not fit in 64 bits");
                length = length * 10 + (c - '0');
                Position++;
            }
            if (Position == start) throw Fail(BencodeError.ExpectedDigit, "Expected a string length");
            if (_options.Strict && Position - start > 1 && span[start] == (byte)'0')
                throw Fail(BencodeError.NonCanonical, "String length with a leading zero", start);
            Position++; // ':'
            if (length > span.Length - Position)
                throw Fail(BencodeError.UnexpectedEnd, $"String of {length} bytes runs past the end of the input");
            var bytes = _input.Slice(Position, (int)length);
            Position += (int)length;
            return new BString(bytes) { Source = _input, SourceOffset = start, SourceLength = Position - start };
        }

        private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

        private BencodeException Fail(BencodeError error, string message, int? at = null) =>
            new(error, at ?? Position, message);
    }
}
