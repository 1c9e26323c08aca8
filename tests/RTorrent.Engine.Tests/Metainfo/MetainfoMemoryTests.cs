using System.Runtime.InteropServices;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>A loaded torrent holds its own bytes and no more: the metainfo keeps slices of them for the torrent's life.</summary>
public class MetainfoMemoryTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-metamem");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    [Fact]
    public void A_small_torrent_loaded_from_a_file_keeps_an_array_of_the_file_s_size()
    {
        var meta = TestTorrents.CreateMultiFile(Path.Combine(_root, "data"), "small", 16 * 1024, 40_000);
        var path = Path.Combine(_root, "small.torrent");
        File.WriteAllBytes(path, meta.ToTorrentFile().ToArray());
        Assert.True(new FileInfo(path).Length < 4096);

        var loaded = TorrentMetainfo.Load(path);
        Assert.True(MemoryMarshal.TryGetArray(loaded.InfoBytes, out var segment));
        // Before: the read buffer (at least 4 KiB and one byte) stayed referenced by every slice.
        Assert.Equal(new FileInfo(path).Length, segment.Array!.Length);
    }
}
