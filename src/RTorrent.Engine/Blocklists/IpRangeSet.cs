using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.Blocklists;

/// <summary>
/// An immutable set of IP address ranges: for IPv4 and for IPv6, sorted arrays of merged, non-overlapping inclusive
/// ranges (starts and ends apart, so a lookup is one binary search on the starts). A lookup is O(log n) and allocates
/// nothing. An IPv4-mapped IPv6 address (what a dual-stack socket reports for an IPv4 peer) is looked up as IPv4.
/// Built by <see cref="IpRangeSetBuilder"/>; replaced whole on reload (<see cref="Blocklist"/>).
/// </summary>
public sealed class IpRangeSet
{
    private readonly uint[] _starts4;
    private readonly uint[] _ends4;
    private readonly UInt128[] _starts6;
    private readonly UInt128[] _ends6;

    /// <summary>No ranges.</summary>
    public static IpRangeSet Empty { get; } = new([], [], [], []);

    internal IpRangeSet(uint[] starts4, uint[] ends4, UInt128[] starts6, UInt128[] ends6)
    {
        _starts4 = starts4;
        _ends4 = ends4;
        _starts6 = starts6;
        _ends6 = ends6;
    }

    /// <summary>Merged IPv4 ranges.</summary>
    public int IPv4Count => _starts4.Length;

    /// <summary>Merged IPv6 ranges.</summary>
    public int IPv6Count => _starts6.Length;

    /// <summary>Merged ranges in all (what the RPC's blocklist-size reports).</summary>
    public int Count => _starts4.Length + _starts6.Length;

    /// <summary>Whether the IPv4 address (host order: 1.2.3.4 is 0x01020304) is in a range.</summary>
    public bool Contains(uint address)
    {
        int i = _starts4.AsSpan().BinarySearch(address);
        if (i < 0) i = ~i - 1;
        return i >= 0 && address <= _ends4[i];
    }

    /// <summary>Whether the IPv6 address (as a big-endian 128-bit number) is in a range.</summary>
    public bool Contains(UInt128 address)
    {
        int i = _starts6.AsSpan().BinarySearch(address);
        if (i < 0) i = ~i - 1;
        return i >= 0 && address <= _ends6[i];
    }

    /// <summary>Whether the address is in a range (IPv4-mapped IPv6 addresses are looked up as IPv4). Allocates nothing.</summary>
    public bool Contains(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written)) return false;
        return Contains(bytes[..written]);
    }

    /// <summary>Whether the address given as its 4 or 16 network-order bytes is in a range.</summary>
    public bool Contains(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4) return _starts4.Length > 0 && Contains(BinaryPrimitives.ReadUInt32BigEndian(address));
        if (address.Length != 16) return false;
        if (IsIPv4Mapped(address)) return _starts4.Length > 0 && Contains(BinaryPrimitives.ReadUInt32BigEndian(address[12..]));
        return _starts6.Length > 0 && Contains(BinaryPrimitives.ReadUInt128BigEndian(address));
    }

    /// <summary>::ffff:a.b.c.d</summary>
    internal static bool IsIPv4Mapped(ReadOnlySpan<byte> address) =>
        address.Length == 16 && BinaryPrimitives.ReadUInt64BigEndian(address) == 0 &&
        BinaryPrimitives.ReadUInt32BigEndian(address[8..]) == 0x0000FFFF;

    /// <summary>The ranges, for tests and tools: IPv4 first, each as (first, last).</summary>
    public IEnumerable<(IPAddress First, IPAddress Last)> Ranges()
    {
        for (int i = 0; i < _starts4.Length; i++) yield return (ToAddress(_starts4[i]), ToAddress(_ends4[i]));
        for (int i = 0; i < _starts6.Length; i++) yield return (ToAddress(_starts6[i]), ToAddress(_ends6[i]));
    }

    internal static IPAddress ToAddress(uint a)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, a);
        return new IPAddress(b);
    }

    internal static IPAddress ToAddress(UInt128 a)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, a);
        return new IPAddress(b);
    }
}

/// <summary>
/// Collects ranges in any order, overlapping or not, and builds an <see cref="IpRangeSet"/>: sorted by start and merged
/// where ranges overlap or touch, so every address is in at most one range.
/// </summary>
public sealed class IpRangeSetBuilder
{
    private readonly List<(uint Start, uint End)> _v4 = [];
    private readonly List<(UInt128 Start, UInt128 End)> _v6 = [];

    /// <summary>Ranges added so far (before merging).</summary>
    public int Count => _v4.Count + _v6.Count;

    /// <summary>Adds an inclusive IPv4 range; start must not be after end.</summary>
    public void Add(uint start, uint end)
    {
        if (start > end) throw new ArgumentException("The range's start is after its end.", nameof(start));
        _v4.Add((start, end));
    }

    /// <summary>Adds an inclusive IPv6 range; start must not be after end.</summary>
    public void Add(UInt128 start, UInt128 end)
    {
        if (start > end) throw new ArgumentException("The range's start is after its end.", nameof(start));
        _v6.Add((start, end));
    }

    /// <summary>Adds an inclusive range of two addresses of one family (IPv4-mapped IPv6 counts as IPv4).</summary>
    public void Add(IPAddress first, IPAddress last)
    {
        if (first.IsIPv4MappedToIPv6) first = first.MapToIPv4();
        if (last.IsIPv4MappedToIPv6) last = last.MapToIPv4();
        if (first.AddressFamily != last.AddressFamily) throw new ArgumentException("A range cannot mix IPv4 and IPv6.", nameof(last));
        Span<byte> a = stackalloc byte[16], b = stackalloc byte[16];
        first.TryWriteBytes(a, out int n);
        last.TryWriteBytes(b, out _);
        if (first.AddressFamily == AddressFamily.InterNetwork)
            Add(BinaryPrimitives.ReadUInt32BigEndian(a), BinaryPrimitives.ReadUInt32BigEndian(b));
        else if (n == 16)
            Add(BinaryPrimitives.ReadUInt128BigEndian(a), BinaryPrimitives.ReadUInt128BigEndian(b));
    }

    /// <summary>Sorts, merges and freezes the ranges.</summary>
    public IpRangeSet Build()
    {
        var (s4, e4) = Merge(_v4);
        var (s6, e6) = Merge(_v6);
        return s4.Length == 0 && s6.Length == 0 ? IpRangeSet.Empty : new IpRangeSet(s4, e4, s6, e6);
    }

    private static (T[] Starts, T[] Ends) Merge<T>(List<(T Start, T End)> ranges)
        where T : struct, System.Numerics.IBinaryInteger<T>, System.Numerics.IMinMaxValue<T>
    {
        if (ranges.Count == 0) return ([], []);
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ranges);
        span.Sort(static (x, y) => x.Start.CompareTo(y.Start));
        // Sized for no merging at all, then trimmed: two arrays, no growing lists.
        var starts = new T[span.Length];
        var ends = new T[span.Length];
        int n = 0;
        T curStart = span[0].Start, curEnd = span[0].End;
        for (int i = 1; i < span.Length; i++)
        {
            var (s, e) = span[i];
            // Overlapping or touching (curEnd + 1 == s): one range. curEnd == MaxValue swallows everything after.
            if (curEnd == T.MaxValue || s <= curEnd + T.One)
            {
                if (e > curEnd) curEnd = e;
                continue;
            }
            starts[n] = curStart;
            ends[n++] = curEnd;
            curStart = s;
            curEnd = e;
        }
        starts[n] = curStart;
        ends[n++] = curEnd;
        if (n < starts.Length)
        {
            Array.Resize(ref starts, n);
            Array.Resize(ref ends, n);
        }
        return (starts, ends);
    }
}
