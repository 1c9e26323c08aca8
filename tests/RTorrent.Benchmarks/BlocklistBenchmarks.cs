using System.IO.Compression;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using RTorrent.Engine.Blocklists;

namespace RTorrent.Benchmarks;

/// <summary>
/// Loading a blocklist of 500,000 PeerGuardian ranges (plain and gzip: read, parse, sort, merge) and looking addresses
/// up in it (IPv4, IPv4-mapped IPv6 as a dual-stack socket reports them, and IPv6 in a list of 50,000 IPv6 ranges).
/// </summary>
[MemoryDiagnoser]
public class BlocklistBenchmarks
{
    public const int Ranges = 500_000;
    private const int Lookups = 1024;
    private byte[] _plain = [];
    private byte[] _gzip = [];
    private IpRangeSet _set = IpRangeSet.Empty;
    private IPAddress[] _v4 = [];
    private IPAddress[] _mapped = [];
    private IPAddress[] _v6 = [];

    [GlobalSetup]
    public void Setup()
    {
        _plain = Generate(Ranges, ipv6: 50_000);
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(_plain);
        _gzip = gz.ToArray();
        _set = Load();
        var random = new Random(3);
        _v4 = new IPAddress[Lookups];
        _mapped = new IPAddress[Lookups];
        _v6 = new IPAddress[Lookups];
        var bytes = new byte[16];
        for (int i = 0; i < Lookups; i++)
        {
            random.NextBytes(bytes);
            _v4[i] = new IPAddress(bytes.AsSpan(0, 4));
            _mapped[i] = _v4[i].MapToIPv6();
            bytes[0] = 0x20;
            bytes[1] = 0x01;
            _v6[i] = new IPAddress(bytes);
        }
    }

    /// <summary>A list like level1: descriptions, ranges of a few to a few thousand addresses, in address order.</summary>
    public static byte[] Generate(int ranges, int ipv6)
    {
        var random = new Random(42);
        var sb = new StringBuilder(ranges * 48);
        sb.Append("# generated for the benchmark\n");
        uint at = 0x01000000;
        for (int i = 0; i < ranges - ipv6; i++)
        {
            at += (uint)random.Next(1, 8000);
            uint end = at + (uint)random.Next(0, 1024);
            sb.Append("Organisation number ").Append(i).Append(" of the list:")
                .Append(new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(at)))).Append('-')
                .Append(new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(end)))).Append('\n');
            at = end;
        }
        for (int i = 0; i < ipv6; i++)
            sb.Append("2001:").Append((i % 65536).ToString("x")).Append(':').Append((i / 65536).ToString("x")).Append("::/48\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private IpRangeSet Load()
    {
        var builder = new IpRangeSetBuilder();
        BlocklistParser.Parse(new MemoryStream(_plain), builder);
        return builder.Build();
    }

    [Benchmark]
    public IpRangeSet LoadPlain() => Load();

    [Benchmark]
    public IpRangeSet LoadGzip()
    {
        var builder = new IpRangeSetBuilder();
        BlocklistParser.Parse(new MemoryStream(_gzip), builder);
        return builder.Build();
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int LookupIPv4()
    {
        int hits = 0;
        foreach (var a in _v4) if (_set.Contains(a)) hits++;
        return hits;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int LookupIPv4MappedIPv6()
    {
        int hits = 0;
        foreach (var a in _mapped) if (_set.Contains(a)) hits++;
        return hits;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int LookupIPv6()
    {
        int hits = 0;
        foreach (var a in _v6) if (_set.Contains(a)) hits++;
        return hits;
    }
}
