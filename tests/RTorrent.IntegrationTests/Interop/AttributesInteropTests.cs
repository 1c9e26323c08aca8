using RTorrent.Engine.Metainfo;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>BEP 47 attributes against libtorrent: a torrent libtorrent made with symlinks and an executable file.</summary>
[Collection(InteropCollection.Name)]
public sealed class AttributesInteropTests(ITestOutputHelper output)
{
    // libtorrent's create_torrent with the symlinks flag stores links as links ('l' + 'symlink path', as readlink says)
    // and the executable bit as 'x'.
    private const string MakeTorrent = """
        import sys, libtorrent as lt
        parent, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
        fs = lt.file_storage()
        lt.add_files(fs, folder, flags=lt.create_torrent.symlinks)
        ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.symlinks | lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, parent)
        open(out, 'wb').write(lt.bencode(ct.generate()))
        print('MADE')
        """;

    [Fact]
    public async Task Downloads_a_libtorrent_made_torrent_with_symlinks_and_an_executable_file_from_a_libtorrent_seeder()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("symlinks and modes are checked on Linux");
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var pay = Path.Combine(seedData, "pay");
        Directory.CreateDirectory(Path.Combine(pay, "bin"));
        Directory.CreateDirectory(Path.Combine(pay, "data"));
        Payload.WriteFile(Path.Combine(pay, "bin", "tool"), 70_000, seed: 47);
        Payload.WriteFile(Path.Combine(pay, "data", "a.bin"), 50_000, seed: 48);
        File.SetUnixFileMode(Path.Combine(pay, "bin", "tool"),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Directory.CreateSymbolicLink(Path.Combine(pay, "current"), "data");
        File.CreateSymbolicLink(Path.Combine(pay, "bin", "run"), "tool");

        var torrentPath = tmp.PathOf("pay.torrent");
        var script = tmp.PathOf("make.py");
        await File.WriteAllTextAsync(script, MakeTorrent);
        await using (var make = RunningProcess.Start("lt-make", Tools.RequireLibtorrent(), [script, seedData, pay, torrentPath], output))
        {
            Assert.Equal(0, await make.WaitForExitAsync(Limits.Startup));
        }
        var meta = TorrentMetainfo.Load(torrentPath);
        Assert.Equal("pay/data", Assert.Single(meta.Files, f => f.Path == "pay/current").SymlinkTarget);
        Assert.Equal("pay/bin/tool", Assert.Single(meta.Files, f => f.Path == "pay/bin/run").SymlinkTarget);
        Assert.True(Assert.Single(meta.Files, f => f.Path == "pay/bin/tool").IsExecutable);

        await using var seeder = await LibtorrentPeer.StartSeederAsync(new TestTorrent(torrentPath, meta), seedData, output);
        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrentPath, save, tmp.Sub("session"),
            RTorrentCli.Peer(seeder.Port));
        int code = await client.WaitForExitAsync(Limits.Transfer);
        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");

        var got = Path.Combine(save, "pay");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pay, "bin", "tool")), await File.ReadAllBytesAsync(Path.Combine(got, "bin", "tool")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pay, "data", "a.bin")), await File.ReadAllBytesAsync(Path.Combine(got, "data", "a.bin")));
        Assert.Equal("data", new DirectoryInfo(Path.Combine(got, "current")).LinkTarget);
        Assert.Equal("tool", new FileInfo(Path.Combine(got, "bin", "run")).LinkTarget);
        Assert.True(File.GetUnixFileMode(Path.Combine(got, "bin", "tool")).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.GetUnixFileMode(Path.Combine(got, "data", "a.bin")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal(["pay"], Directory.GetFileSystemEntries(save).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_libtorrent_downloader_makes_the_links_and_executable_bit_of_a_torrent_we_created_with_attributes()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("symlinks and modes are checked on Linux");
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        var pay = Path.Combine(seedData, "pay");
        Directory.CreateDirectory(Path.Combine(pay, "bin"));
        Directory.CreateDirectory(Path.Combine(pay, "data"));
        Payload.WriteFile(Path.Combine(pay, "bin", "tool"), 70_000, seed: 49);
        Payload.WriteFile(Path.Combine(pay, "data", "a.bin"), 50_000, seed: 50);
        File.SetUnixFileMode(Path.Combine(pay, "bin", "tool"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.CreateSymbolicLink(Path.Combine(pay, "bin", "run"), "tool");
        Directory.CreateSymbolicLink(Path.Combine(pay, "current"), "data");
        var torrentPath = tmp.PathOf("pay.torrent");
        var created = await TorrentCreator.CreateFileAsync(pay, torrentPath,
            new TorrentCreatorOptions { PieceLength = 16 * 1024, Attributes = true });
        Assert.Equal("pay/bin/tool", Assert.Single(created.Metainfo.Files, f => f.Path == "pay/bin/run").SymlinkTarget);

        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrentPath, seedData, tmp.Sub("session"));
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);
        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrentPath, save, output, "lt-get", "default", "tcp", port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        var got = Path.Combine(save, "pay");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pay, "bin", "tool")), await File.ReadAllBytesAsync(Path.Combine(got, "bin", "tool")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pay, "data", "a.bin")), await File.ReadAllBytesAsync(Path.Combine(got, "data", "a.bin")));
        // libtorrent makes the links (pointing at the same files) and sets the executable bit from our 'x'.
        Assert.NotNull(new FileInfo(Path.Combine(got, "bin", "run")).LinkTarget);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pay, "bin", "tool")), await File.ReadAllBytesAsync(Path.Combine(got, "bin", "run")));
        Assert.NotNull(new DirectoryInfo(Path.Combine(got, "current")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(got, "current", "a.bin")));
        Assert.True(File.GetUnixFileMode(Path.Combine(got, "bin", "tool")).HasFlag(UnixFileMode.UserExecute));
    }
}

/// <summary>BEP 16 against libtorrent: two libtorrent downloaders complete from <c>rtorrent seed --super-seed</c>.</summary>
[Collection(InteropCollection.Name)]
public sealed class SuperSeedingInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_libtorrent_downloaders_complete_from_a_super_seed()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "super.bin"), 40 * 16 * 1024 + 777, seed: 16);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "super.bin"), tmp.PathOf("super.torrent"), 16 * 1024);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"),
            "--super-seed", "--verbose");
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var first = LibtorrentPeer.StartDownloader(torrent.FilePath, tmp.Sub("get1"), output, "lt-get1", "default", "tcp", port);
        await using var d1 = first;
        int firstPort = await first.WaitListeningAsync();
        await using var d2 = LibtorrentPeer.StartDownloader(torrent.FilePath, tmp.Sub("get2"), output, "lt-get2", "default", "tcp", port, firstPort);
        await Task.WhenAll(d1.WaitFinishedAsync(Limits.Transfer), d2.WaitFinishedAsync(Limits.Transfer));

        Payload.AssertSameTree(seedData, tmp.PathOf("get1"));
        Payload.AssertSameTree(seedData, tmp.PathOf("get2"));
        Assert.Contains("super-seeding: new peers see no pieces", seeder.StandardError + seeder.StandardOutput, StringComparison.Ordinal);
        // Whether it also saw every piece announced (and so ended super-seeding) depends on whether each downloader's
        // last HAVEs left before its process exited on completion; the engine test covers the ending.
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }
}
