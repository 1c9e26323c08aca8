using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class FileStorageTests : IDisposable
{
    private readonly TempDir _tmp = new();
    private readonly FileStorageFactory _factory = new();

    public void Dispose()
    {
        _factory.Dispose();
        _tmp.Dispose();
    }

    private static readonly (string, long, bool)[] SampleFiles =
    [
        ("t/a", 1000, false),
        ("t/empty", 0, false),
        ("t/.pad/24", 24, true),
        ("t/sub/b", 3000, false),
        ("t/c", 7, false),
    ];

    private static byte[] TorrentBytes(FileLayout layout)
    {
        // Random data, with zeros where the pad file lies (as a real torrent's pieces are hashed).
        var data = StorageTestData.Random((int)layout.TotalLength, 99);
        foreach (var f in layout.Files.Where(f => f.IsPadding))
            Array.Clear(data, (int)layout.GetFileOffset(f.Index), (int)f.Length);
        return data;
    }

    [Fact]
    public async Task Pieces_round_trip_across_file_boundaries_with_pad_and_empty_files()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), SampleFiles);
        await using var storage = _factory.Open(ctx);
        var layout = new FileLayout(ctx.Files, 512);
        var io = new PieceIO(storage, layout);
        var data = TorrentBytes(layout);

        await io.PrepareFilesAsync(preallocate: false);
        for (int p = layout.PieceCount - 1; p >= 0; p--) // out of order, as pieces complete in a swarm
            await io.WritePieceAsync(p, data.AsMemory((int)layout.GetPieceOffset(p), layout.GetPieceSize(p)));
        await storage.FlushAsync(default);

        Assert.Equal(data[..1000], File.ReadAllBytes(_tmp.Sub("dl", "t", "a")));
        Assert.Equal(data[1024..4024], File.ReadAllBytes(_tmp.Sub("dl", "t", "sub", "b")));
        Assert.Equal(data[4024..], File.ReadAllBytes(_tmp.Sub("dl", "t", "c")));
        Assert.Empty(File.ReadAllBytes(_tmp.Sub("dl", "t", "empty")));
        Assert.False(Directory.Exists(_tmp.Sub("dl", "t", ".pad")), "pad files are never created");

        var back = new byte[data.Length];
        Assert.Equal(data.Length, await io.ReadAsync(0, back));
        Assert.Equal(data, back);

        // A range straddling a, the pad and b; a block ending in the pad (which reads as zeros).
        var range = new byte[100];
        Assert.Equal(100, await io.ReadAsync(962, range));
        Assert.Equal(data.AsSpan(962, 100).ToArray(), range);
        var block = new byte[62];
        Assert.Equal(62, await io.ReadAsync(962, block));
        Assert.Equal(data.AsSpan(962, 62).ToArray(), block);
        Assert.All(block[^24..], b => Assert.Equal(0, b));

        var hash = new byte[20];
        for (int p = 0; p < layout.PieceCount; p++)
        {
            Assert.True(await io.HashPieceFromDiskAsync(p, hash));
            Assert.Equal(System.Security.Cryptography.SHA1.HashData(data.AsSpan((int)layout.GetPieceOffset(p), layout.GetPieceSize(p))), hash);
        }
    }

    [Fact]
    public async Task Missing_files_read_as_zero_bytes_and_reads_stop_at_the_file_end()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("x/one", 10, false), ("x/two", 10, false));
        await using var storage = _factory.Open(ctx);
        var buffer = new byte[16];
        Assert.Equal(0, await storage.ReadAsync(0, 0, buffer, default));
        Assert.False(File.Exists(_tmp.Sub("dl", "x", "one")), "reading must not create files");

        await storage.WriteAsync(0, 0, new byte[] { 1, 2, 3, 4 }, default);
        Assert.Equal(4, await storage.ReadAsync(0, 0, buffer, default)); // short: the file has 4 bytes so far
        Assert.Equal(0, await storage.ReadAsync(0, 10, buffer, default));

        // A file on disk longer than the torrent says: reads stop at the torrent's length.
        File.WriteAllBytes(_tmp.Sub("dl", "x", "two"), new byte[50]);
        Assert.Equal(10, await storage.ReadAsync(1, 0, buffer, default));

        var io = new PieceIO(storage, new FileLayout(ctx.Files, 8));
        Assert.False(await io.HashPieceFromDiskAsync(0, new byte[20]));
        Assert.Equal(4, await io.ReadAsync(0, new byte[8]));
    }

    [Fact]
    public async Task Writes_outside_a_file_are_refused()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("f", 10, false));
        await using var storage = _factory.Open(ctx);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await storage.WriteAsync(0, 8, new byte[4], default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await storage.WriteAsync(0, -1, new byte[1], default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await storage.WriteAsync(1, 0, new byte[1], default));
    }

    [Fact]
    public async Task A_file_first_read_then_written_is_upgraded_to_read_write()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("f", 8, false));
        Directory.CreateDirectory(_tmp.Sub("dl"));
        File.WriteAllBytes(_tmp.Sub("dl", "f"), [1, 2, 3, 4, 5, 6, 7, 8]);
        await using var storage = _factory.Open(ctx);
        var buffer = new byte[8];
        Assert.Equal(8, await storage.ReadAsync(0, 0, buffer, default));
        await storage.WriteAsync(0, 2, new byte[] { 9, 9 }, default);
        Assert.Equal(8, await storage.ReadAsync(0, 0, buffer, default));
        Assert.Equal(new byte[] { 1, 2, 9, 9, 5, 6, 7, 8 }, buffer);
        Assert.Equal(1, _factory.OpenHandleCount); // the read-only handle was replaced, not kept beside
    }

    [Fact]
    public async Task Prepare_makes_sparse_files_of_the_final_length_and_preallocate_allocates()
    {
        const long big = 64L * 1024 * 1024;
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("s/sparse", big, false), ("s/full", 1024 * 1024, false), ("s/zero", 0, false));
        await using var storage = _factory.Open(ctx);
        await storage.PrepareAsync(0, preallocate: false, default);
        await storage.PrepareAsync(1, preallocate: true, default);
        await storage.PrepareAsync(2, preallocate: false, default);

        Assert.Equal(big, new FileInfo(_tmp.Sub("dl", "s", "sparse")).Length);
        Assert.Equal(1024 * 1024, new FileInfo(_tmp.Sub("dl", "s", "full")).Length);
        Assert.Equal(0, new FileInfo(_tmp.Sub("dl", "s", "zero")).Length);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(StorageTestData.AllocatedBytes(_tmp.Sub("dl", "s", "sparse")) < 1024 * 1024, "sparse: no zeros written");
            Assert.True(StorageTestData.AllocatedBytes(_tmp.Sub("dl", "s", "full")) >= 1024 * 1024, "preallocated: blocks reserved");
        }

        // Existing data is kept, and a second prepare with preallocation allocates an existing sparse file.
        await storage.WriteAsync(0, 100, new byte[] { 42 }, default);
        await storage.PrepareAsync(0, preallocate: false, default);
        var one = new byte[1];
        await storage.ReadAsync(0, 100, one, default);
        Assert.Equal(42, one[0]);

        var state = await storage.ProbeAsync(0, default);
        Assert.True(state.Exists);
        Assert.Equal(big, state.Length);
        Assert.NotNull(state.LastWriteUtc);
        Assert.False((await storage.ProbeAsync(3 - 3 + 2, default)).Length > 0);
    }

    [Fact]
    public async Task Preallocating_an_existing_sparse_file_allocates_its_blocks()
    {
        if (!OperatingSystem.IsLinux()) return; // posix_fallocate is used on Linux only; elsewhere prepare stays sparse
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("p", 2 * 1024 * 1024, false));
        await using var storage = _factory.Open(ctx);
        await storage.PrepareAsync(0, preallocate: false, default);
        Assert.True(StorageTestData.AllocatedBytes(_tmp.Sub("dl", "p")) < 1024 * 1024);
        await storage.PrepareAsync(0, preallocate: true, default);
        Assert.True(StorageTestData.AllocatedBytes(_tmp.Sub("dl", "p")) >= 2 * 1024 * 1024);
    }

    [Fact]
    public async Task Flush_reopens_closed_files_and_never_recreates_deleted_ones()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("a", 4, false), ("b", 4, false));
        await using var storage = _factory.Open(ctx);
        await storage.WriteAsync(0, 0, new byte[] { 1, 2, 3, 4 }, default);
        await storage.WriteAsync(1, 0, new byte[] { 1, 2, 3, 4 }, default);
        await storage.CloseAsync(0, default);
        Assert.Equal(1, _factory.OpenHandleCount);
        File.Delete(_tmp.Sub("dl", "b"));
        await storage.CloseAsync(1, default);
        await storage.FlushAsync(default);
        Assert.True(File.Exists(_tmp.Sub("dl", "a")));
        Assert.False(File.Exists(_tmp.Sub("dl", "b")));
        await storage.FlushAsync(default); // nothing dirty any more
    }

    [Fact]
    public async Task Move_renames_files_into_the_new_folder_and_cleans_up_the_old_one()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), SampleFiles);
        await using var storage = _factory.OpenFileStorage(ctx);
        var io = new PieceIO(storage, new FileLayout(ctx.Files, 512));
        var data = TorrentBytes(io.Layout);
        await io.PrepareFilesAsync(false);
        await io.WriteAsync(0, data);
        File.WriteAllText(_tmp.Sub("dl", "unrelated.txt"), "keep me");

        await storage.MoveAsync(_tmp.Sub("moved"), default);

        Assert.Equal(Path.GetFullPath(_tmp.Sub("moved")), storage.SaveDirectory);
        Assert.False(Directory.Exists(_tmp.Sub("dl", "t")));
        Assert.True(File.Exists(_tmp.Sub("dl", "unrelated.txt")));
        Assert.True(File.Exists(_tmp.Sub("moved", "t", "empty")));
        var back = new byte[data.Length];
        Assert.Equal(data.Length, await io.ReadAsync(0, back));
        Assert.Equal(data, back);
    }

    [Fact]
    public async Task Move_refuses_to_overwrite_and_rolls_back()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 3, false), ("t/b", 3, false));
        await using var storage = _factory.OpenFileStorage(ctx);
        await storage.WriteAsync(0, 0, "aaa"u8.ToArray(), default);
        await storage.WriteAsync(1, 0, "bbb"u8.ToArray(), default);
        Directory.CreateDirectory(_tmp.Sub("other", "t"));
        File.WriteAllText(_tmp.Sub("other", "t", "b"), "theirs");

        var e = await Assert.ThrowsAsync<StorageIOException>(async () => await storage.MoveAsync(_tmp.Sub("other"), default));
        Assert.Equal(StorageErrorKind.DestinationExists, e.Kind);
        Assert.Equal("aaa", File.ReadAllText(_tmp.Sub("dl", "t", "a")));
        Assert.Equal("bbb", File.ReadAllText(_tmp.Sub("dl", "t", "b")));
        Assert.False(File.Exists(_tmp.Sub("other", "t", "a")));
        Assert.Equal("theirs", File.ReadAllText(_tmp.Sub("other", "t", "b")));
        Assert.Equal(Path.GetFullPath(_tmp.Sub("dl")), storage.SaveDirectory);
    }

    [Fact]
    public async Task Move_across_file_systems_copies()
    {
        // Another file system: a fresh tmpfs (tests run as root on Linux), else /dev/shm, which is a tmpfs on Linux.
        using var mount = TmpfsMount.TryMount(_tmp.Sub("mnt"), "size=4m");
        var otherFs = mount?.Path ?? (Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", Path.GetFileName(_tmp.Path)) : null);
        if (otherFs is null) return; // no second file system to move to on this machine
        using var cleanup = mount is null ? new TempDirAt(otherFs) : null;
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/a", 100_000, false));
        await using var storage = _factory.OpenFileStorage(ctx);
        var data = StorageTestData.Random(100_000, 3);
        await storage.WriteAsync(0, 0, data, default);
        await storage.MoveAsync(Path.Combine(otherFs, "dest"), default);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(otherFs, "dest", "t", "a")));
        Assert.False(File.Exists(_tmp.Sub("dl", "t", "a")));
    }

    [Fact]
    public async Task Delete_removes_only_the_torrents_files_and_its_empty_folders()
    {
        var ctx = StorageTestData.Context(_tmp.Sub("dl"), ("t/x/a", 3, false), ("t/y/b", 3, false), ("single", 2, false));
        await using var storage = _factory.Open(ctx);
        for (int i = 0; i < 3; i++) await storage.PrepareAsync(i, false, default);
        File.WriteAllText(_tmp.Sub("dl", "t", "y", "mine.txt"), "user file");
        File.WriteAllText(_tmp.Sub("dl", "other"), "user file");

        await storage.DeleteAsync(default);

        Assert.False(File.Exists(_tmp.Sub("dl", "t", "x", "a")));
        Assert.False(Directory.Exists(_tmp.Sub("dl", "t", "x")));
        Assert.False(File.Exists(_tmp.Sub("dl", "t", "y", "b")));
        Assert.True(File.Exists(_tmp.Sub("dl", "t", "y", "mine.txt")));
        Assert.False(File.Exists(_tmp.Sub("dl", "single")));
        Assert.True(File.Exists(_tmp.Sub("dl", "other")));
        Assert.True(Directory.Exists(_tmp.Sub("dl")));
    }
}
