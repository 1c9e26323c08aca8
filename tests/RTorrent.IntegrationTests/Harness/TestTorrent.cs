using System.Buffers;
using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>A .torrent written for a test: its file and what our parser makes of it.</summary>
internal sealed record TestTorrent(string FilePath, TorrentMetainfo Meta)
{
    /// <summary>The hex v1 info-hash.</summary>
    public string InfoHashHex => Meta.WireHash.ToHex();

    /// <summary>A magnet link with only the info-hash and the given direct peers (x.pe), no tracker.</summary>
    public string MagnetWithPeers(params int[] ports) =>
        $"magnet:?xt=urn:btih:{InfoHashHex}" + string.Concat(ports.Select(p => $"&x.pe=127.0.0.1:{p}"));

    /// <summary>Makes a torrent of <paramref name="content"/> (a file or folder) with our <see cref="TorrentCreator"/>.</summary>
    /// <param name="content">The file or folder to share.</param>
    /// <param name="torrentPath">Where the .torrent goes.</param>
    /// <param name="pieceLength">Bytes per piece (small, so a few MiB give many pieces).</param>
    /// <param name="trackers">Announce URLs, one tier each; none for a trackerless torrent.</param>
    public static async Task<TestTorrent> CreateAsync(string content, string torrentPath, long pieceLength, params string[] trackers)
    {
        var created = await TorrentCreator.CreateFileAsync(content, torrentPath, new TorrentCreatorOptions
        {
            PieceLength = pieceLength,
            Trackers = trackers.Select(t => (IReadOnlyList<string>)[t]).ToArray(),
            Comment = "RTorrent interop test",
        });
        return new TestTorrent(torrentPath, created.Metainfo);
    }

    /// <summary>Makes a torrent with mktorrent (another tool's .torrent files must work too).</summary>
    /// <param name="content">The file or folder to share.</param>
    /// <param name="torrentPath">Where the .torrent goes.</param>
    /// <param name="pieceLengthLog2">log2 of the piece length (mktorrent's -l).</param>
    /// <param name="tracker">The announce URL, or null for none.</param>
    public static async Task<TestTorrent> CreateWithMktorrentAsync(string content, string torrentPath, int pieceLengthLog2, string? tracker)
    {
        var mktorrent = Tools.Require("mktorrent", "mktorrent");
        List<string> args = ["-l", pieceLengthLog2.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", torrentPath];
        if (tracker is not null) args.AddRange(["-a", tracker]);
        args.Add(content);
        await using var p = RunningProcess.Start("mktorrent", mktorrent, args, null);
        int code = await p.WaitForExitAsync(Limits.Startup);
        if (code != 0) throw new InvalidOperationException($"mktorrent failed with {code}:\n{p.Tail()}");
        return new TestTorrent(torrentPath, TorrentMetainfo.Load(torrentPath));
    }

    /// <summary>
    /// Which pieces of the torrent are on disk under <paramref name="saveDirectory"/> with the right SHA-1 (what a
    /// client has really written, independent of what it claims).
    /// </summary>
    public bool[] VerifiedPiecesOnDisk(string saveDirectory)
    {
        var meta = Meta;
        var result = new bool[meta.PieceCount];
        var handles = new Microsoft.Win32.SafeHandles.SafeFileHandle?[meta.Files.Count];
        var buffer = ArrayPool<byte>.Shared.Rent((int)meta.PieceLength);
        Span<byte> hash = stackalloc byte[20];
        try
        {
            for (int i = 0; i < handles.Length; i++)
            {
                var path = Path.Combine(saveDirectory, meta.Files[i].Path);
                try
                {
                    if (!meta.Files[i].IsPadding && File.Exists(path))
                        handles[i] = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* treated as missing */ }
            }
            for (int piece = 0; piece < meta.PieceCount; piece++)
            {
                long start = piece * meta.PieceLength;
                int size = meta.GetPieceSize(piece);
                var span = buffer.AsSpan(0, size);
                span.Clear();
                bool complete = true;
                foreach (var f in meta.Files)
                {
                    if (f.Offset >= start + size) break;
                    if (f.Offset + f.Length <= start || f.Length == 0 || f.IsPadding) continue;
                    long from = Math.Max(start, f.Offset);
                    long to = Math.Min(start + size, f.Offset + f.Length);
                    var target = span.Slice((int)(from - start), (int)(to - from));
                    if (handles[f.Index] is not { } h || RandomAccess.Read(h, target, from - f.Offset) != target.Length)
                    {
                        complete = false;
                        break;
                    }
                }
                if (!complete) continue;
                SHA1.HashData(span, hash);
                result[piece] = hash.SequenceEqual(meta.GetPieceHash(piece));
            }
        }
        finally
        {
            foreach (var h in handles) h?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return result;
    }

    /// <summary>How many pieces are on disk with the right hash.</summary>
    public int CountVerifiedOnDisk(string saveDirectory) => VerifiedPiecesOnDisk(saveDirectory).Count(v => v);
}
