using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Benchmarks;

/// <summary>SHA-1 over 64 MiB of memory in 1 MiB pieces on one core: the ceiling for piece hashing.</summary>
public class Sha1Benchmarks
{
    private const int Piece = 1 << 20;
    private readonly byte[] _data = new byte[64 * Piece];
    private readonly byte[] _digest = new byte[20];

    [GlobalSetup]
    public void Setup() => new Random(1).NextBytes(_data);

    /// <summary>64 MiB per operation: MiB/s = 64 / (mean in seconds).</summary>
    [Benchmark]
    public void Sha1_64MiB_in_1MiB_pieces()
    {
        for (int offset = 0; offset < _data.Length; offset += Piece)
            SHA1.HashData(_data.AsSpan(offset, Piece), _digest);
    }
}

/// <summary>
/// TorrentCreator over one 1 GiB file (in /dev/shm when it exists, so the disk is not measured), 1 MiB pieces, one
/// worker and one per core. Set RTORRENT_BENCH_DIR to put the file elsewhere.
/// </summary>
public class CreatorBenchmarks
{
    private string _file = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dir = Environment.GetEnvironmentVariable("RTORRENT_BENCH_DIR") is { Length: > 0 } d ? d
            : Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _file = Path.Combine(dir, $"rt-bench-1g-{Environment.ProcessId}.bin");
        var chunk = new byte[1 << 20];
        var random = new Random(7);
        using var stream = File.Create(_file);
        for (int i = 0; i < 1024; i++)
        {
            random.NextBytes(chunk);
            stream.Write(chunk);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_file);

    /// <summary>1 GiB per operation: MiB/s = 1024 / (mean in seconds).</summary>
    [Benchmark]
    public Task<CreatedTorrent> Create_1GiB() =>
        TorrentCreator.CreateAsync(_file, new TorrentCreatorOptions { PieceLength = 1 << 20, Parallelism = Threads, OmitCreationDate = true });
}
