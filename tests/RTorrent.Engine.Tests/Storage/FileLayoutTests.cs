using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class FileLayoutTests
{
    // a(1000) empty(0) pad(24) b(3000) c(7) -> 4031 bytes, pieces of 512 -> 8 pieces, the last of 447.
    private static FileLayout Sample() => new(
    [
        new StorageFile(0, "t/a", 1000, false),
        new StorageFile(1, "t/empty", 0, false),
        new StorageFile(2, "t/.pad/24", 24, true),
        new StorageFile(3, "t/b", 3000, false),
        new StorageFile(4, "t/c", 7, false),
    ], 512);

    [Fact]
    public void Counts_pieces_and_sizes()
    {
        var l = Sample();
        Assert.Equal(4031, l.TotalLength);
        Assert.Equal(8, l.PieceCount);
        Assert.Equal(512, l.GetPieceSize(0));
        Assert.Equal(4031 - 7 * 512, l.GetPieceSize(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.GetPieceSize(8));
        Assert.Throws<ArgumentException>(() => new FileLayout(l.Files, 512, pieceCount: 9));
    }

    [Fact]
    public void Find_file_skips_zero_length_files_and_handles_edges()
    {
        var l = Sample();
        Assert.Equal(0, l.FindFile(0));
        Assert.Equal(0, l.FindFile(999));
        Assert.Equal(2, l.FindFile(1000)); // not the empty file at the same offset
        Assert.Equal(2, l.FindFile(1023));
        Assert.Equal(3, l.FindFile(1024));
        Assert.Equal(4, l.FindFile(4030));
        Assert.Equal(-1, l.FindFile(4031));
        Assert.Equal(-1, l.FindFile(-1));
    }

    [Fact]
    public void Segments_of_a_piece_spanning_files_and_padding()
    {
        var l = Sample();
        // Piece 1 = bytes 512..1023: 488 of a, the 24 pad bytes.
        Assert.Equal(
            [new FileSegment(0, 512, 488, 0, false), new FileSegment(2, 0, 24, 488, true)],
            Collect(l.GetPieceSegments(1)));
        // Piece 7 = bytes 3584..4030: the rest of b (3584-1024=2560.. 3000) then all of c.
        Assert.Equal(
            [new FileSegment(3, 2560, 440, 0, false), new FileSegment(4, 0, 7, 440, false)],
            Collect(l.GetPieceSegments(7)));
        // A range that starts exactly at a file boundary.
        Assert.Equal([new FileSegment(3, 0, 10, 0, false)], Collect(l.GetSegments(1024, 10)));
        Assert.Empty(Collect(l.GetSegments(100, 0)));
    }

    [Fact]
    public void Piece_and_file_ranges()
    {
        var l = Sample();
        Assert.Equal((0, 1), l.GetPieceRange(0));
        var empty = l.GetPieceRange(1);
        Assert.Equal(empty.First - 1, empty.Last);
        Assert.Equal((2, 7), l.GetPieceRange(3));
        Assert.Equal((7, 7), l.GetPieceRange(4));
    }

    [Fact]
    public void Segments_cover_every_byte_exactly_once_for_random_layouts()
    {
        var rng = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            int n = rng.Next(1, 12);
            var files = Enumerable.Range(0, n)
                .Select(i => new StorageFile(i, $"f{i}", rng.Next(0, 4) == 0 ? 0 : rng.Next(1, 3000), rng.Next(0, 5) == 0))
                .ToList();
            if (files.All(f => f.Length == 0)) files[0] = files[0] with { Length = 1 };
            var l = new FileLayout(files, rng.Next(1, 2000));
            for (int p = 0; p < l.PieceCount; p++)
            {
                long expectedOffset = l.GetPieceOffset(p);
                int covered = 0;
                foreach (var s in l.GetPieceSegments(p))
                {
                    Assert.True(s.Length > 0);
                    Assert.Equal(covered, s.BufferOffset);
                    Assert.Equal(expectedOffset + covered, l.GetFileOffset(s.FileIndex) + s.FileOffset);
                    Assert.True(s.FileOffset + s.Length <= files[s.FileIndex].Length);
                    Assert.Equal(files[s.FileIndex].IsPadding, s.IsPadding);
                    covered += s.Length;
                }
                Assert.Equal(l.GetPieceSize(p), covered);
            }
        }
    }

    [Fact]
    public void Enumerating_segments_allocates_nothing()
    {
        var l = Sample();
        long sum = 0;
        for (int p = 0; p < l.PieceCount; p++) foreach (var s in l.GetPieceSegments(p)) sum += s.Length; // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 100; round++)
            for (int p = 0; p < l.PieceCount; p++)
                foreach (var s in l.GetPieceSegments(p)) sum += s.Length;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(101 * l.TotalLength, sum);
    }

    private static List<FileSegment> Collect(FileLayout.SegmentEnumerator e)
    {
        var list = new List<FileSegment>();
        foreach (var s in e) list.Add(s);
        return list;
    }
}

public class StorageFilesTests
{
    [Fact]
    public void Contexts_and_layouts_come_from_metainfo()
    {
        var m = new RTorrent.Engine.Metainfo.TorrentMetainfo
        {
            InfoHashV1 = RTorrent.Engine.Metainfo.InfoHash.FromHex("00112233445566778899aabbccddeeff00112233"),
            Versions = RTorrent.Engine.Metainfo.TorrentVersions.V1,
            Name = "t",
            IsMultiFile = true,
            PieceLength = 16,
            PieceCount = 2,
            PieceHashes = new byte[40],
            Files =
            [
                new() { Index = 0, Path = "t/a", Length = 10, Offset = 0 },
                new() { Index = 1, Path = "t/.pad/6", Length = 6, Offset = 10, IsPadding = true },
                new() { Index = 2, Path = "t/b", Length = 5, Offset = 16 },
            ],
            TotalSize = 15,
            TotalLength = 21,
            InfoBytes = new byte[1],
        };
        var ctx = StorageFiles.CreateContext(m, "/dl");
        Assert.Equal("00112233445566778899aabbccddeeff00112233", ctx.InfoHashHex);
        Assert.Equal(new StorageFile(1, "t/.pad/6", 6, true), ctx.Files[1]);
        var layout = StorageFiles.CreateLayout(m);
        Assert.Equal(21, layout.TotalLength);
        Assert.Equal(2, layout.PieceCount);
        Assert.Equal(16, layout.GetFileOffset(2));
    }
}
