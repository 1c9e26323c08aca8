using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Client;

/// <summary>Files' first priorities, and pieces' priorities from their files'.</summary>
public class FilePriorityMapTests : IDisposable
{
    private readonly string _root = RTorrent.Testing.TestPaths.NewTempDir("rt-prio");

    public void Dispose() => Directory.Delete(_root, true);

    // 16 KiB pieces over files of 40,000, 0, 10,000 and 30,000 bytes: file 0 in pieces 0-2, file 2 in pieces 2-3,
    // file 3 in pieces 3-4 (bytes 50,000..79,999).
    private TorrentMetainfo Meta() => TestTorrents.CreateMultiFile(_root, "t", 16 * 1024, 40_000, 0, 10_000, 30_000);

    [Fact]
    public void Given_priorities_win_then_a_magnets_selection_then_normal()
    {
        var meta = Meta();
        // Files past the given list fall back to the selection.
        Assert.Equal([Priority.High, Priority.Low, Priority.Normal, Priority.Skip],
            FilePriorityMap.Initial(meta, [Priority.High, Priority.Low], [2]));
        Assert.Equal([Priority.Skip, Priority.Skip, Priority.Normal, Priority.Skip], FilePriorityMap.Initial(meta, null, [2]));
        Assert.All(FilePriorityMap.Initial(meta, null, null), p => Assert.Equal(Priority.Normal, p));
    }

    [Fact]
    public void A_piece_takes_the_highest_priority_of_its_files_and_is_skipped_only_when_all_are()
    {
        var meta = Meta();
        var pieces = FilePriorityMap.ForPieces(meta, [Priority.Skip, Priority.High, Priority.Low, Priority.Skip]);
        // The empty file 1 touches no piece; piece 2 holds bytes of files 0 and 2, piece 3 of files 2 and 3.
        Assert.Equal([Priority.Skip, Priority.Skip, Priority.Low, Priority.Low, Priority.Skip], pieces);
    }
}
