using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Metainfo;

public sealed class TorrentCreatorV2Tests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-create-v2");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>The plain definition: leaves = SHA-256 of each block, zero leaves up to a power of two, pairs hashed.</summary>
    private static byte[] NaiveRoot(byte[] data, int minLeaves)
    {
        var leaves = new List<byte[]>();
        for (int at = 0; at < data.Length; at += 16384) leaves.Add(SHA256.HashData(data.AsSpan(at, Math.Min(16384, data.Length - at))));
        int width = 1;
        while (width < Math.Max(leaves.Count, minLeaves)) width *= 2;
        while (leaves.Count < width) leaves.Add(new byte[32]);
        while (leaves.Count > 1)
            leaves = [.. Enumerable.Range(0, leaves.Count / 2).Select(i => SHA256.HashData([.. leaves[2 * i], .. leaves[2 * i + 1]]))];
        return leaves[0];
    }

    [Fact]
    public async Task Pieces_roots_and_layers_equal_the_plain_merkle_definition()
    {
        var root = Path.Combine(_dir, "p");
        Directory.CreateDirectory(root);
        var big = Data(5 * 32768 + 5, 1);   // 6 pieces of 32 KiB: the layer is padded to 8 zero pieces
        var small = Data(3 * 16384 - 1, 2); // 3 blocks in one piece: the root is over 4 leaves, not the piece's 2
        File.WriteAllBytes(Path.Combine(root, "big"), big);
        File.WriteAllBytes(Path.Combine(root, "small"), small);
        var created = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { PieceLength = 65536, Version = TorrentVersions.V2 });
        var t = created.Metainfo;
        Assert.Equal(TorrentVersions.V2, t.Versions);
        Assert.Equal(NaiveRoot(big, 0), t.Files.Single(f => f.Path == "p/big").PiecesRoot.ToArray());
        Assert.Equal(NaiveRoot(small, 0), t.Files.Single(f => f.Path == "p/small").PiecesRoot.ToArray());
        // big: 3 pieces of 64 KiB + pad to the next piece; small starts a piece of its own.
        Assert.Equal(4, t.PieceCount);
        Assert.DoesNotContain(t.Warnings, w => w.Contains("piece layer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hybrid_has_v1_pieces_over_files_aligned_by_pad_files()
    {
        var root = Path.Combine(_dir, "h");
        Directory.CreateDirectory(root);
        File.WriteAllBytes(Path.Combine(root, "a"), Data(20000, 3));
        File.WriteAllBytes(Path.Combine(root, "b"), Data(16384, 4));
        File.WriteAllBytes(Path.Combine(root, "c"), Data(100, 5));
        var t = (await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { PieceLength = 16384, Version = TorrentVersions.Hybrid })).Metainfo;
        Assert.Equal(TorrentVersions.Hybrid, t.Versions);
        Assert.Equal(["h/a", ".pad/12768", "h/b", "h/c", ".pad/16284"], t.Files.Select(f => f.Path));
        var stream = t.Files.SelectMany(f => f.IsPadding ? new byte[f.Length] : File.ReadAllBytes(Path.Combine(_dir, f.Path))).ToArray();
        for (int i = 0; i < t.PieceCount; i++)
            Assert.Equal(SHA1.HashData(stream.AsSpan(i * 16384, t.GetPieceSize(i))), t.GetPieceHash(i).ToArray());
    }

    [Theory]
    [InlineData(16383)]
    [InlineData(3 * 16384)]
    public async Task A_v2_piece_length_must_be_a_power_of_two_of_at_least_16_KiB(long pieceLength)
    {
        var file = Path.Combine(_dir, "f");
        File.WriteAllBytes(file, Data(100, 6));
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = pieceLength, Version = TorrentVersions.V2 }));
        Assert.Contains("power of two", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Layers_received_from_peers_are_checked_against_the_root_and_kept_in_the_saved_torrent()
    {
        var file = Path.Combine(_dir, "big");
        File.WriteAllBytes(file, Data(5 * 16384 + 3, 7));
        var full = (await TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = 16384, Version = TorrentVersions.V2 })).Metainfo;
        var f = full.Files[0];
        var layer = full.V2!.LayerOf(f.Index)!;

        // What a magnet's metadata gives: no layers; pieces cannot be checked yet.
        var bare = TorrentMetainfo.FromInfoDictionary(full.InfoBytes, [["http://t.example/announce"]]);
        Assert.False(bare.V2!.Complete);
        Assert.Null(bare.V2.Verify(0, [new byte[16384]]));
        var wrong = (byte[])layer.Clone();
        wrong[0] ^= 1;
        Assert.False(bare.V2.TrySetLayer(f.Index, wrong));
        Assert.False(bare.V2.TrySetLayer(f.Index, layer[..^32])); // one hash short
        Assert.True(bare.V2.TrySetLayer(f.Index, layer));
        Assert.True(bare.V2.Complete);

        var saved = TorrentMetainfo.Parse(bare.ToTorrentFile());
        Assert.True(saved.V2!.Complete);
        Assert.Equal(full.InfoBytes.ToArray(), saved.InfoBytes.ToArray());
        Assert.Equal(["http://t.example/announce"], saved.AnnounceTiers.SelectMany(t => t));
    }
}
