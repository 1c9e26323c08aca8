using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>Restoring a session (issue 13): stray temporary files are swept once when it opens, never on each load.</summary>
public class SessionRestoreTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-restore");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private string SessionDir => Path.Combine(_root, "session");

    private string Data => Path.Combine(_root, "data");

    private SessionOptions Options() => new()
    {
        SessionDirectory = SessionDir,
        Engine = new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex"],
    };

    private TorrentMetainfo[] NewTorrents(int count) =>
        Enumerable.Range(0, count).Select(i => TestTorrents.CreateMultiFile(Data, $"t{i:000}", 16 * 1024, 20_000 + i)).ToArray();

    /// <summary>A session holding <paramref name="metas"/>, all seeding (checked once when added), closed again.</summary>
    private async Task SaveSessionAsync(IEnumerable<TorrentMetainfo> metas, Func<ClientSession, Task>? then = null)
    {
        await using var s = await ClientSession.OpenAsync(Options());
        foreach (var m in metas) Assert.Equal(TorrentState.Seeding, (await s.AddAsync(m, new TorrentOptions { SavePath = Data })).State);
        if (then is not null) await then(s);
    }

    [Fact]
    public async Task Temporary_files_of_crashed_saves_are_swept_when_the_session_opens_and_never_while_it_runs()
    {
        var metas = NewTorrents(2);
        await SaveSessionAsync(metas);
        string a = metas[0].WireHash.ToHex(), b = metas[1].WireHash.ToHex();
        // What a kill -9 during saves leaves: a temporary beside a resume file and beside a .torrent.
        string[] stale = [Path.Combine(SessionDir, a + ".resume.deadbeef.tmp"), Path.Combine(SessionDir, a + ".torrent.0badf00d.tmp")];
        string notOurs = Path.Combine(SessionDir, "notes.tmp");
        foreach (var f in stale.Append(notOurs)) await File.WriteAllTextAsync(f, "partial");

        await using var s = await ClientSession.OpenAsync(Options());
        Assert.All(stale, f => Assert.False(File.Exists(f), $"{Path.GetFileName(f)} was left"));
        Assert.True(File.Exists(notOurs), "a file that is no save's temporary is not ours to delete");

        // From now on such a file may be a save in progress: loading, restoring and adding leave it alone.
        string inProgress = Path.Combine(SessionDir, b + ".resume.cafebabe.tmp");
        await File.WriteAllTextAsync(inProgress, "being written");
        Assert.Equal(2, (await s.RestoreAsync()).Count);
        await s.AddAsync(TestTorrents.CreateMultiFile(Data, "late", 16 * 1024, 10_000), new TorrentOptions { SavePath = Data });
        Assert.True(File.Exists(inProgress), "a load or an add swept the session folder");
    }
}
