using System.Diagnostics;
using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Tests.Storage;

public class DataMoverTests : IDisposable
{
    private readonly TempDir _tmp = new("rt-move");

    public void Dispose() => _tmp.Dispose();

    private static readonly StorageFile[] Files =
    [
        new(0, "T/a.bin", 300_000, false),
        new(1, "T/.pad/1234", 1234, true),
        new(2, "T/sub/b.bin", 70_000, false),
        new(3, "T/empty.txt", 0, false),
        new(4, "T/skipped.bin", 5000, false), // never written: not on disk
    ];

    /// <summary>Writes the files of <see cref="Files"/> that exist on disk under <paramref name="root"/>; returns their contents.</summary>
    private static Dictionary<string, byte[]> WriteSources(string root)
    {
        var written = new Dictionary<string, byte[]>();
        foreach (var f in Files.Where(f => !f.IsPadding && f.Index != 4))
        {
            var data = StorageTestData.Random((int)f.Length, f.Index + 1);
            var path = Path.Combine(root, f.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
            File.SetLastWriteTimeUtc(path, new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(f.Index * 1000));
            written[f.Path] = data;
        }
        return written;
    }

    private static long Inode(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(10_000));
        return long.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string[] Tree(string root) =>
        Directory.Exists(root) ? [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order()] : [];

    [Fact]
    public async Task On_one_file_system_files_are_renamed_and_the_old_folders_go_only_after_the_sources_are_removed()
    {
        var from = _tmp.Sub("home", "user", "dl");
        var to = _tmp.Sub("home", "user", "done");
        var data = WriteSources(from);
        File.WriteAllText(_tmp.Sub("home", "user", "dl", "not-ours.txt"), "user file beside the torrent");
        long inode = Inode(Path.Combine(from, "T", "a.bin"));
        var mover = new DataMover(from, to, Files, "abcdef01");

        await mover.StageAsync(null, default);

        // Staged: complete at the destination, untouched at the source.
        Assert.Equal(3, mover.LinkedFiles);
        Assert.Equal(0, mover.CopiedFiles);
        Assert.Equal(inode, Inode(Path.Combine(to, "T", "a.bin"))); // the same data under a second name, nothing copied
        foreach (var (path, bytes) in data)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(to, path)));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
        }
        Assert.False(File.Exists(Path.Combine(to, "T", "skipped.bin")));
        Assert.False(Directory.Exists(Path.Combine(to, "T", ".pad")));

        Assert.Empty(mover.RemoveSources());

        Assert.Equal(["not-ours.txt"], Tree(from)); // the torrent's folders went, the user's file and the folder stay
        Assert.True(Directory.Exists(_tmp.Sub("home", "user")));
        Assert.Equal(["T", "T/a.bin", "T/empty.txt", "T/sub", "T/sub/b.bin"], Tree(to));
    }

    [Fact]
    public async Task Across_file_systems_files_are_copied_with_their_size_mode_and_time_and_holes_stay_holes()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("mnt"), "size=16m");
        if (mount is null) return; // no second file system here (the tests run as root on Linux)
        if (OperatingSystem.IsWindows()) return;
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);
        File.SetUnixFileMode(Path.Combine(from, "T", "sub", "b.bin"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // A partly downloaded file: 8 MiB long, 64 KiB of data at its start, the rest a hole.
        var sparse = Path.Combine(from, "T", "a.bin");
        var files = Files.ToArray();
        files[0] = files[0] with { Length = 8 * 1024 * 1024 };
        using (var h = File.OpenHandle(sparse, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(h, StorageTestData.Random(65536, 9), 0);
            RandomAccess.SetLength(h, 8 * 1024 * 1024);
        }
        var to = Path.Combine(mount.Path, "dest");
        var progress = new List<MoveProgress>();
        var mover = new DataMover(from, to, files, "abcdef01");

        await mover.StageAsync(new SyncProgress<MoveProgress>(progress.Add), default);

        Assert.Equal(3, mover.CopiedFiles);
        Assert.Equal(3, progress.Count);
        Assert.Equal(progress[^1].BytesTotal, progress[^1].BytesDone);
        Assert.Equal(File.ReadAllBytes(sparse), File.ReadAllBytes(Path.Combine(to, "T", "a.bin")));
        Assert.True(StorageTestData.AllocatedBytes(Path.Combine(to, "T", "a.bin")) < 1024 * 1024, "the hole was not written out");
        Assert.Equal(data["T/sub/b.bin"], File.ReadAllBytes(Path.Combine(to, "T", "sub", "b.bin")));
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(from, "T", "sub", "b.bin")), File.GetLastWriteTimeUtc(Path.Combine(to, "T", "sub", "b.bin")));
        Assert.Equal(File.GetUnixFileMode(Path.Combine(from, "T", "sub", "b.bin")), File.GetUnixFileMode(Path.Combine(to, "T", "sub", "b.bin")));
        Assert.Equal(0, new FileInfo(Path.Combine(to, "T", "empty.txt")).Length);
        Assert.DoesNotContain(Tree(to), p => p.Contains(DataMover.TemporaryPrefix, StringComparison.Ordinal));
        Assert.True(File.Exists(sparse), "the source stays until the caller removes it");
    }

    [Fact]
    public async Task A_full_disk_leaves_nothing_at_the_destination_and_the_sources_intact()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("small"), "size=256k");
        if (mount is null) return;
        var from = _tmp.Sub("dl");
        var data = WriteSources(from); // 370 KB of random data does not fit in 256 KiB
        var to = Path.Combine(mount.Path, "deep", "dest");

        var e = await Assert.ThrowsAsync<StorageIOException>(() => new DataMover(from, to, Files, "abcdef01").StageAsync(null, default));

        Assert.Equal(StorageErrorKind.DiskFull, e.Kind);
        Assert.Contains("No space left on device", e.Message, StringComparison.Ordinal);
        Assert.Empty(Tree(mount.Path)); // even the folders it created are gone
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
    }

    [Fact]
    public async Task A_read_only_destination_is_a_clear_error_and_nothing_changes()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("ro"), "ro,size=64k");
        if (mount is null) return;
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);

        var e = await Assert.ThrowsAsync<StorageIOException>(() => new DataMover(from, mount.Path, Files, "abcdef01").StageAsync(null, default));

        Assert.Equal(StorageErrorKind.ReadOnlyFileSystem, e.Kind);
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
    }

    [Fact]
    public async Task Cancelling_between_files_removes_the_copies_made_so_far()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("mnt"), "size=16m");
        if (mount is null) return;
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);
        var to = Path.Combine(mount.Path, "dest");
        using var cts = new CancellationTokenSource();
        var mover = new DataMover(from, to, Files, "abcdef01");
        string[] afterFirst = [];

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => mover.StageAsync(new SyncProgress<MoveProgress>(p =>
        {
            if (p.FilesDone == 1)
            {
                afterFirst = Tree(to);
                cts.Cancel();
            }
        }), cts.Token));

        Assert.Contains("T/a.bin", afterFirst); // one file was complete at the destination when it was cancelled
        Assert.False(Directory.Exists(to));
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
    }

    [Fact]
    public async Task A_destination_holding_a_file_of_the_same_name_is_refused_before_anything_is_created()
    {
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);
        var to = _tmp.Sub("other");
        Directory.CreateDirectory(Path.Combine(to, "T", "sub"));
        File.WriteAllText(Path.Combine(to, "T", "sub", "b.bin"), "someone else's file");
        File.WriteAllText(Path.Combine(to, "T", "skipped.bin"), "also someone else's"); // even for a file not on disk here

        var e = await Assert.ThrowsAsync<StorageIOException>(() => new DataMover(from, to, Files, "abcdef01").StageAsync(null, default));

        Assert.Equal(StorageErrorKind.DestinationExists, e.Kind);
        Assert.Contains(Path.Combine(to, "T", "sub", "b.bin"), e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(to, "T", "skipped.bin"), e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was moved", e.Message, StringComparison.Ordinal);
        Assert.Equal("someone else's file", File.ReadAllText(Path.Combine(to, "T", "sub", "b.bin")));
        Assert.Equal(["T", "T/skipped.bin", "T/sub", "T/sub/b.bin"], Tree(to));
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
    }

    [Fact]
    public async Task A_temporary_file_left_by_an_interrupted_copy_is_replaced()
    {
        using var mount = TmpfsMount.TryMount(_tmp.Sub("mnt"), "size=16m");
        if (mount is null) return;
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);
        var to = Path.Combine(mount.Path, "dest");
        Directory.CreateDirectory(Path.Combine(to, "T"));
        var stale = Path.Combine(to, "T", DataMover.TemporaryPrefix + "abcdef01-0");
        File.WriteAllText(stale, "half a copy from before a crash");

        await new DataMover(from, to, Files, "abcdef01").StageAsync(null, default);

        Assert.False(File.Exists(stale));
        Assert.Equal(data["T/a.bin"], File.ReadAllBytes(Path.Combine(to, "T", "a.bin")));
    }

    [Fact]
    public async Task Rollback_removes_only_what_the_move_created()
    {
        var from = _tmp.Sub("dl");
        var data = WriteSources(from);
        var to = _tmp.Sub("other");
        Directory.CreateDirectory(Path.Combine(to, "T"));
        File.WriteAllText(Path.Combine(to, "T", "mine.txt"), "the user's");
        var mover = new DataMover(from, to, Files, "abcdef01");
        await mover.StageAsync(null, default);

        mover.Rollback();

        Assert.Equal(["T", "T/mine.txt"], Tree(to));
        foreach (var (path, bytes) in data) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(from, path)));
    }

    [Fact]
    public void The_same_folder_reached_through_a_symbolic_link_is_the_same_place()
    {
        Directory.CreateDirectory(_tmp.Sub("dl"));
        Directory.CreateSymbolicLink(_tmp.Sub("alias"), _tmp.Sub("dl"));
        Assert.True(new DataMover(_tmp.Sub("dl"), _tmp.Sub("alias"), Files, "x").IsSamePlace);
        Assert.True(new DataMover(_tmp.Sub("dl"), _tmp.Sub("dl") + "/", Files, "x").IsSamePlace);
        Assert.False(new DataMover(_tmp.Sub("dl"), _tmp.Sub("elsewhere"), Files, "x").IsSamePlace);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread at once (Progress&lt;T&gt; posts).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
