using BenchmarkDotNet.Attributes;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Benchmarks;

/// <summary>
/// Decoding a large .torrent: 20,000 files in 200 folders and 400,000 pieces (about 9 MiB, most of it piece hashes),
/// as bencode only and as a full parse (validation, path sanitizing, info-hash).
/// </summary>
[MemoryDiagnoser]
public class BencodeBenchmarks
{
    private byte[] _torrent = [];

    [GlobalSetup]
    public void Setup() => _torrent = LargeTorrent.Build(files: 20_000, pieces: 400_000);

    [Benchmark]
    public BValue Decode() => BencodeReader.Decode(_torrent);

    [Benchmark]
    public TorrentMetainfo ParseTorrent() => TorrentMetainfo.Parse(_torrent);
}

/// <summary>A synthetic large torrent: deterministic file names, sizes that add up to the pieces.</summary>
public static class LargeTorrent
{
    public static byte[] Build(int files, int pieces)
    {
        const int pieceLength = 16 * 1024;
        long total = (long)pieces * pieceLength;
        var list = new BList();
        long left = total;
        for (int i = 0; i < files; i++)
        {
            long length = i == files - 1 ? left : total / files;
            left -= length;
            list.Add(new BDictionary
            {
                ["length"] = new BInteger(length),
                ["path"] = new BList([new BString($"folder {i / 100:D3}"), new BString($"file number {i:D6} of the benchmark.bin")]),
            });
        }
        var hashes = new byte[pieces * 20];
        new Random(42).NextBytes(hashes);
        var info = new BDictionary
        {
            ["files"] = list,
            ["name"] = new BString("large benchmark torrent"),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(hashes),
        };
        var top = new BDictionary
        {
            ["announce"] = new BString("http://tracker.example/announce"),
            ["info"] = info,
        };
        return BencodeWriter.Encode(top);
    }
}
