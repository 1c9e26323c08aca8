using System.Diagnostics;
using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Metainfo;

public sealed class TorrentCreatorTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-create");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Data(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A folder whose sorted order is the same for every tool: a.bin, b/c.bin, b/d/e.bin, f.bin (empty), g.bin.</summary>
    private string MakeFolder(string name = "payload")
    {
        var root = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.Combine(root, "b", "d"));
        File.WriteAllBytes(Path.Combine(root, "a.bin"), Data(70_000, 1));
        File.WriteAllBytes(Path.Combine(root, "b", "c.bin"), Data(5, 2));
        File.WriteAllBytes(Path.Combine(root, "b", "d", "e.bin"), Data(100_001, 3));
        File.WriteAllBytes(Path.Combine(root, "f.bin"), []);
        File.WriteAllBytes(Path.Combine(root, "g.bin"), Data(40_000, 4));
        return root;
    }

    [Theory]
    [InlineData(0, 16 * 1024)]
    [InlineData(1, 16 * 1024)]
    [InlineData(2000L * 16 * 1024, 16 * 1024)]
    [InlineData(2000L * 16 * 1024 + 1, 32 * 1024)]
    [InlineData(1L << 30, 1 << 20)]
    [InlineData(4L << 30, 4 << 20)]
    [InlineData(1L << 40, 16 << 20)]
    public void Piece_length_follows_the_table(long size, long expected) => Assert.Equal(expected, TorrentCreator.ChoosePieceLength(size));

    [Fact]
    public async Task Folder_round_trips_and_every_piece_verifies()
    {
        var root = MakeFolder();
        File.WriteAllBytes(Path.Combine(root, ".hidden"), Data(10, 5));
        var options = new TorrentCreatorOptions
        {
            PieceLength = 16384,
            Trackers = [["http://a.example/announce", "udp://b.example:6969"], ["http://c.example/announce"]],
            WebSeeds = ["http://seed.example/files/"],
            IsPrivate = true,
            Comment = "a comment",
            Source = "SRC",
            CreationDate = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            Parallelism = 2,
        };
        var reports = new List<TorrentCreationProgress>();
        var created = await TorrentCreator.CreateAsync(root, options, new SyncProgress(reports.Add));
        var t = TorrentMetainfo.Parse(created.TorrentFile);

        Assert.Equal("payload", t.Name);
        Assert.Equal(["payload/a.bin", "payload/b/c.bin", "payload/b/d/e.bin", "payload/f.bin", "payload/g.bin"], t.Files.Select(f => f.Path));
        Assert.Equal(210_006, t.TotalSize);
        Assert.True(t.IsPrivate);
        Assert.Equal("SRC", t.Source);
        Assert.Equal("a comment", t.Comment);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), t.CreationDate);
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(["http://seed.example/files/"], t.WebSeeds);
        Assert.Contains(created.Skipped, s => s.StartsWith(".hidden", StringComparison.Ordinal));
        Assert.Equal(created.Metainfo.InfoHashV1, t.InfoHashV1);

        var stream = t.Files.SelectMany(f => File.ReadAllBytes(Path.Combine(_dir, f.Path))).ToArray();
        for (int i = 0; i < t.PieceCount; i++)
        {
            var piece = stream.AsSpan((int)(i * t.PieceLength), t.GetPieceSize(i));
            Assert.True(SHA1.HashData(piece).AsSpan().SequenceEqual(t.GetPieceHash(i)), $"piece {i}");
        }
        Assert.Equal(new TorrentCreationProgress(t.TotalSize, t.TotalSize, t.PieceCount, t.PieceCount), reports[^1]);
    }

    [Fact]
    public async Task Pieces_larger_than_the_read_buffer_are_hashed_incrementally()
    {
        var file = Path.Combine(_dir, "big.bin");
        var data = Data(9 * 1024 * 1024 + 123, 8);
        File.WriteAllBytes(file, data);
        var created = await TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = 8 << 20, OmitCreationDate = true });
        var t = created.Metainfo;
        Assert.Equal(2, t.PieceCount);
        Assert.True(SHA1.HashData(data.AsSpan(0, 8 << 20)).AsSpan().SequenceEqual(t.GetPieceHash(0)));
        Assert.True(SHA1.HashData(data.AsSpan(8 << 20)).AsSpan().SequenceEqual(t.GetPieceHash(1)));
    }

    [Fact]
    public void Loading_a_device_that_never_ends_stops_at_the_size_limit()
    {
        if (!File.Exists("/dev/zero")) return;
        var e = Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Load("/dev/zero"));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public async Task Hidden_files_are_included_on_request()
    {
        var root = MakeFolder();
        Directory.CreateDirectory(Path.Combine(root, ".git"));
        File.WriteAllBytes(Path.Combine(root, ".git", "HEAD"), Data(10, 6));
        var created = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { IncludeHidden = true, OmitCreationDate = true });
        Assert.Contains("payload/.git/HEAD", created.Metainfo.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task Symlinks_inside_the_folder_are_followed_and_those_leaving_it_are_not()
    {
        if (OperatingSystem.IsWindows()) return; // creating symlinks needs a privilege there
        var root = MakeFolder();
        var outside = Path.Combine(_dir, "secret.txt");
        File.WriteAllText(outside, "do not share");
        File.CreateSymbolicLink(Path.Combine(root, "leak.txt"), outside);
        File.CreateSymbolicLink(Path.Combine(root, "inside.bin"), Path.Combine(root, "g.bin"));
        Directory.CreateSymbolicLink(Path.Combine(root, "loop"), root);

        var created = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { OmitCreationDate = true });
        var paths = created.Metainfo.Files.Select(f => f.Path).ToList();
        Assert.Contains("payload/inside.bin", paths);
        Assert.DoesNotContain("payload/leak.txt", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("payload/loop", StringComparison.Ordinal));
        Assert.Equal(2, created.Skipped.Count);
    }

    [Fact]
    public async Task With_attributes_links_inside_stay_links_and_executables_are_marked_and_the_torrent_reads_back()
    {
        if (OperatingSystem.IsWindows()) return; // creating symlinks needs a privilege there
        var root = MakeFolder();
        File.SetUnixFileMode(Path.Combine(root, "g.bin"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var outside = Path.Combine(_dir, "secret.txt");
        File.WriteAllText(outside, "do not share");
        File.CreateSymbolicLink(Path.Combine(root, "leak.txt"), outside);
        File.CreateSymbolicLink(Path.Combine(root, "inside.bin"), "g.bin");
        Directory.CreateSymbolicLink(Path.Combine(root, "b", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(root, "dir"), Path.Combine("b", "d"));

        var plain = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { OmitCreationDate = true, PieceLength = 16384 });
        var created = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { OmitCreationDate = true, PieceLength = 16384, Attributes = true });
        var t = created.Metainfo;
        Assert.Equal("payload/g.bin", Assert.Single(t.Files, f => f.Path == "payload/inside.bin").SymlinkTarget);
        Assert.Equal("payload", Assert.Single(t.Files, f => f.Path == "payload/b/up").SymlinkTarget);
        Assert.Equal("payload/b/d", Assert.Single(t.Files, f => f.Path == "payload/dir").SymlinkTarget);
        Assert.True(Assert.Single(t.Files, f => f.Path == "payload/g.bin").IsExecutable);
        Assert.False(Assert.Single(t.Files, f => f.Path == "payload/a.bin").IsExecutable);
        Assert.DoesNotContain(t.Files, f => f.Path == "payload/leak.txt");
        Assert.All(t.Files.Where(f => f.IsSymlink), f => Assert.Equal(0, f.Length));
        // The data is the same, so are the pieces; the file list (attributes, links) makes it another torrent.
        Assert.Equal(plain.Metainfo.TotalSize - 40_000, t.TotalSize); // inside.bin was a copy of g.bin without attributes
        Assert.DoesNotContain(t.Warnings, w => w.Contains("Symlink"));
    }

    [Fact]
    public async Task Cancellation_stops_hashing()
    {
        var root = MakeFolder();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TorrentCreator.CreateAsync(root, null, null, cts.Token));
    }

    [Fact]
    public async Task Empty_input_and_existing_output_are_refused()
    {
        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(empty));
        await Assert.ThrowsAsync<FileNotFoundException>(() => TorrentCreator.CreateAsync(Path.Combine(_dir, "missing")));

        var root = MakeFolder();
        var output = Path.Combine(_dir, "out.torrent");
        File.WriteAllText(output, "keep me");
        await Assert.ThrowsAsync<IOException>(() => TorrentCreator.CreateFileAsync(root, output));
        Assert.Equal("keep me", File.ReadAllText(output));
        await TorrentCreator.CreateFileAsync(root, output, overwrite: true);
        Assert.Equal("payload", TorrentMetainfo.Load(output).Name);
    }

    [Theory]
    [InlineData(false, 15)]
    [InlineData(true, 15)]
    [InlineData(false, 17)]
    public async Task Info_hash_equals_mktorrents_for_a_folder(bool isPrivate, int log2PieceLength)
    {
        var root = MakeFolder();
        var theirs = await RunMktorrent(root, log2PieceLength, isPrivate);
        var ours = await TorrentCreator.CreateAsync(root, new TorrentCreatorOptions { PieceLength = 1L << log2PieceLength, IsPrivate = isPrivate, Source = "SRC" });
        Assert.Equal(theirs.InfoHashV1, ours.Metainfo.InfoHashV1);
        Assert.Equal(theirs.Files.Select(f => f.Path), ours.Metainfo.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task Info_hash_equals_mktorrents_for_a_single_file()
    {
        var file = Path.Combine(_dir, "single.bin");
        File.WriteAllBytes(file, Data(1_000_003, 9));
        var theirs = await RunMktorrent(file, 16, isPrivate: false);
        var ours = await TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = 1 << 16, Source = "SRC" });
        Assert.Equal(theirs.InfoHashV1, ours.Metainfo.InfoHashV1);
        Assert.False(ours.Metainfo.IsMultiFile);
    }

    [Fact]
    public async Task Libtorrent_loads_our_torrent_with_the_same_info_hash_and_files()
    {
        var root = MakeFolder();
        var output = Path.Combine(_dir, "ours.torrent");
        var ours = await TorrentCreator.CreateFileAsync(root, output, new TorrentCreatorOptions { Trackers = [["http://127.0.0.1:1/announce"]] });
        const string script = "import sys, libtorrent as lt\n"
            + "ti = lt.torrent_info(sys.argv[1]); fs = ti.files()\n"
            + "print(str(ti.info_hash())); print(ti.num_pieces())\n"
            + "for i in range(fs.num_files()): print(fs.file_path(i).replace('\\\\', '/'))\n";
        var lines = (await Run("/usr/bin/python3", ["-c", script, output], "python3-libtorrent")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ours.Metainfo.InfoHashV1!.Value.ToHex(), lines[0]);
        Assert.Equal(ours.Metainfo.PieceCount.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[1]);
        Assert.Equal(ours.Metainfo.Files.Select(f => f.Path), lines.Skip(2));
    }

    private static async Task<string> Run(string tool, string[] args, string package)
    {
        Assert.True(File.Exists(tool), $"{package} is not installed: run ./test.sh, which installs the interop peers.");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"{tool} failed: {await stderr}");
            return await stdout;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private async Task<TorrentMetainfo> RunMktorrent(string target, int log2PieceLength, bool isPrivate)
    {
        var output = Path.Combine(_dir, $"mk-{Guid.NewGuid():N}.torrent");
        var args = new List<string> { "-a", "http://127.0.0.1:1/announce", "-l", log2PieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s", "SRC", "-o", output };
        if (isPrivate) args.Add("-p");
        args.Add(target);
        await Run("/usr/bin/mktorrent", [.. args], "mktorrent");
        return TorrentMetainfo.Load(output);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class SyncProgress(Action<TorrentCreationProgress> report) : IProgress<TorrentCreationProgress>
    {
        private readonly Lock _lock = new();

        public void Report(TorrentCreationProgress value)
        {
            lock (_lock) report(value);
        }
    }
}
