using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Storage;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>BEP 47 on disk: a downloaded torrent's symlinks and executable bits, and links that would leave the folder.</summary>
public class FileAttributesDownloadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class FileCatalog : IComponentCatalog
    {
        private readonly FileStorageFactory _files = new();
        public IPiecePickerFactory? FindPicker(string name) => name == "rarest-first" ? new RarestFirstPickerFactory() : null;
        public IStorageFactory? FindStorage(string name) => name == "file" ? _files : null;
        public IReadOnlyList<IPeerSourceFactory> PeerSources => [];
    }

    /// <summary>"T": bin/tool (executable), data/a.txt, link "current" -> data, link "bin/run" -> bin/tool, and links that climb out.</summary>
    private static TorrentMetainfo Create(string seedRoot, byte[] tool, byte[] text)
    {
        var dir = Path.Combine(seedRoot, "T");
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        File.WriteAllBytes(Path.Combine(dir, "bin", "tool"), tool);
        File.WriteAllBytes(Path.Combine(dir, "data", "a.txt"), text);
        static BList P(params string[] e) { var l = new BList(); foreach (var s in e) l.Add(new BString(s)); return l; }
        static BDictionary Link(BList path, BList target) => new()
        {
            ["length"] = new BInteger(0), ["attr"] = new BString("l"), ["path"] = path, ["symlink path"] = target,
        };
        var files = new BList
        {
            new BDictionary { ["length"] = new BInteger(tool.Length), ["path"] = P("bin", "tool"), ["attr"] = new BString("x") },
            new BDictionary { ["length"] = new BInteger(text.Length), ["path"] = P("data", "a.txt"), ["attr"] = new BString("h") },
            Link(P("current"), P("data")),
            Link(P("bin", "run"), P("bin", "tool")),
            Link(P("escape"), P("..", "..", "outside.txt")),
            Link(P("abs"), P("/tmp/rtorrent-bep47-abs")),
        };
        var all = tool.Concat(text).ToArray();
        var info = new BDictionary
        {
            ["name"] = new BString("T"),
            ["files"] = files,
            ["piece length"] = new BInteger(16384),
            ["pieces"] = new BString(TestTorrents.Hashes(all, 16384)),
        };
        return TorrentMetainfo.Parse(BencodeWriter.Encode(new BDictionary { ["info"] = info }));
    }

    [Fact]
    public async Task A_downloaded_torrent_gets_its_links_inside_the_folder_and_its_executable_bit_and_nothing_outside()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var rng = new Random(7);
            var tool = new byte[40_000];
            var text = new byte[9_000];
            rng.NextBytes(tool);
            rng.NextBytes(text);
            var seedDir = Path.Combine(root, "seed");
            var leechDir = Path.Combine(root, "leech", "downloads");
            var meta = Create(seedDir, tool, text);
            Assert.Contains(meta.Warnings, w => w.Contains("T/escape") && w.Contains("outside"));

            var catalog = new FileCatalog();
            var config = new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback };
            await using var seeder = new ClientEngine(config, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            var seeding = await seeder.AddAsync(meta, new TorrentOptions { SavePath = seedDir });
            Assert.Equal(TorrentState.Seeding, seeding.State);

            await using var leecher = new ClientEngine(config, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "L ") });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var t = await leecher.AddAsync(meta, new TorrentOptions { SavePath = leechDir, Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)] });
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));

            var dir = Path.Combine(leechDir, "T");
            Assert.Equal(tool, await File.ReadAllBytesAsync(Path.Combine(dir, "bin", "tool")));
            Assert.Equal(text, await File.ReadAllBytesAsync(Path.Combine(dir, "data", "a.txt")));
            Assert.Equal("data", new DirectoryInfo(Path.Combine(dir, "current")).LinkTarget);
            Assert.Equal("tool", new FileInfo(Path.Combine(dir, "bin", "run")).LinkTarget);
            Assert.Equal(text, await File.ReadAllBytesAsync(Path.Combine(dir, "current", "a.txt"))); // through the link
            Assert.False(File.Exists(Path.Combine(dir, "escape")) || new FileInfo(Path.Combine(dir, "escape")).LinkTarget is not null);
            Assert.False(File.Exists(Path.Combine(dir, "abs")) || new FileInfo(Path.Combine(dir, "abs")).LinkTarget is not null);
            // Nothing beside the download folder: only "downloads" in leech/.
            Assert.Equal(["downloads"], Directory.GetFileSystemEntries(Path.Combine(root, "leech")).Select(Path.GetFileName));
            Assert.Equal(["T"], Directory.GetFileSystemEntries(leechDir).Select(Path.GetFileName));
            if (!OperatingSystem.IsWindows())
            {
                // Set on the loop when the download completes, before the torrent reports it.
                Assert.True(File.GetUnixFileMode(Path.Combine(dir, "bin", "tool")).HasFlag(UnixFileMode.UserExecute));
                Assert.False(File.GetUnixFileMode(Path.Combine(dir, "data", "a.txt")).HasFlag(UnixFileMode.UserExecute));
            }
            var log = (await leecher.GetDetailsAsync(t)).Log;
            Assert.Contains(log, l => l.Message.Contains("symlink T/escape not made"));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
