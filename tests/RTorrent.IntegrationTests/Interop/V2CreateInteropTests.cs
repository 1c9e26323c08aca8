using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// <c>rtorrent create --v2 / --hybrid</c> against libtorrent 2.0.8's create_torrent: the same files and piece length
/// give the same v1 and v2 info-hashes (so the same file tree order, merkle roots, pad files and piece hashes).
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class V2CreateInteropTests(ITestOutputHelper output)
{
    // Prints "<sha1 of info> <sha256 of info>" for each (path, piece length, mode) on the command line.
    private const string MakeTorrents = """
        import sys, hashlib, libtorrent as lt
        parent = sys.argv[1]
        args = sys.argv[2:]
        for i in range(0, len(args), 3):
            path, piece, mode = args[i], int(args[i + 1]), args[i + 2]
            fs = lt.file_storage()
            lt.add_files(fs, parent + "/" + path)
            flags = lt.create_torrent.v2_only if mode == 'v2' else 0
            ct = lt.create_torrent(fs, piece, flags=flags)
            lt.set_piece_hashes(ct, parent)
            info = lt.bencode(ct.generate()[b'info'])
            print(hashlib.sha1(info).hexdigest(), hashlib.sha256(info).hexdigest(), flush=True)
        print('DONE', flush=True)
        """;

    [Fact]
    public async Task V2_and_hybrid_info_hashes_equal_libtorrents_for_the_same_files_and_piece_length()
    {
        using var tmp = new TempFolder();
        var parent = tmp.Sub("in");
        // A folder whose tree order differs from the order of the joined paths ('a/b' before 'a.b' and 'a.bin'), with an
        // empty file in the middle and at the end, files of exactly one and two pieces (of 16 KiB), a file of five
        // pieces (its layer is padded to eight), files shorter than a piece and than a block.
        var multi = Path.Combine(parent, "multi");
        Directory.CreateDirectory(Path.Combine(multi, "a"));
        Directory.CreateDirectory(Path.Combine(multi, "sub"));
        Payload.WriteFile(Path.Combine(multi, "a", "b"), 1_000, seed: 1);
        Payload.WriteFile(Path.Combine(multi, "a.b"), 40_000, seed: 2);
        Payload.WriteFile(Path.Combine(multi, "a.bin"), 5 * 16_384 - 7, seed: 3);
        Payload.WriteFile(Path.Combine(multi, "empty"), 0, seed: 4);
        Payload.WriteFile(Path.Combine(multi, "sub", "exact"), 16_384, seed: 5);
        Payload.WriteFile(Path.Combine(multi, "sub", "two"), 2 * 16_384, seed: 6);
        Payload.WriteFile(Path.Combine(multi, "sub", "z"), 100, seed: 7);
        Payload.WriteFile(Path.Combine(multi, "zz_empty"), 0, seed: 8);
        // Single files: several pieces, exactly one piece, less than a block.
        Payload.WriteFile(Path.Combine(parent, "single.bin"), 300_001, seed: 9);
        Payload.WriteFile(Path.Combine(parent, "onepiece.bin"), 65_536, seed: 10);
        Payload.WriteFile(Path.Combine(parent, "tiny.bin"), 10, seed: 11);

        var cases = new List<(string Path, long Piece, TorrentVersions Version)>();
        foreach (var version in new[] { TorrentVersions.V2, TorrentVersions.Hybrid })
        {
            cases.Add(("multi", 16_384, version));
            cases.Add(("multi", 65_536, version)); // files of 2-3 blocks inside one piece: roots over 4 leaves, not the piece's
            cases.Add(("single.bin", 16_384, version));
            cases.Add(("single.bin", 65_536, version));
            cases.Add(("onepiece.bin", 65_536, version));
            cases.Add(("tiny.bin", 16_384, version));
        }

        var script = tmp.PathOf("make.py");
        await File.WriteAllTextAsync(script, MakeTorrents);
        var args = new List<string> { script, parent };
        foreach (var c in cases) args.AddRange([c.Path, c.Piece.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Version == TorrentVersions.V2 ? "v2" : "hybrid"]);
        List<string> expected;
        await using (var make = RunningProcess.Start("lt-create", Tools.RequireLibtorrent(), args, output))
        {
            Assert.Equal(0, await make.WaitForExitAsync(Limits.Startup));
            expected = [.. make.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l != "DONE")];
        }
        Assert.Equal(cases.Count, expected.Count);

        for (int i = 0; i < cases.Count; i++)
        {
            var (path, piece, version) = cases[i];
            var created = await TorrentCreator.CreateAsync(Path.Combine(parent, path),
                new TorrentCreatorOptions { PieceLength = piece, Version = version, OmitCreationDate = true, Parallelism = 2 });
            var t = created.Metainfo;
            var info = t.InfoBytes.Span;
            var ours = $"{Convert.ToHexStringLower(SHA1.HashData(info))} {Convert.ToHexStringLower(SHA256.HashData(info))}";
            Assert.True(expected[i] == ours, $"{path} ({piece}, {version}): libtorrent {expected[i]}, ours {ours}");
            Assert.Equal(version, t.Versions);
            Assert.Equal(SHA256.HashData(info), t.InfoHashV2);
        }
    }
}
