using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// An engine on loopback whose clock only moves when the test says (<see cref="TickAsync"/>), with a folder of
/// generated torrents; everything is removed on dispose.
/// </summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private int _torrents;

    private EngineHarness(ClientEngine engine, ManualTimeProvider time, TestCatalog catalog, string root)
    {
        Engine = engine;
        Time = time;
        Catalog = catalog;
        Root = root;
    }

    public ClientEngine Engine { get; }
    public ManualTimeProvider Time { get; }
    public TestCatalog Catalog { get; }
    public string Root { get; }

    public static async Task<EngineHarness> StartAsync(EngineConfig? config = null, Action<TestCatalog>? setup = null,
        Func<Torrent, Task>? saveResume = null, RTorrent.Engine.Blocklists.Blocklist? blocklist = null)
    {
        var root = TestPaths.NewTempDir("rt-mgmt");
        var time = new ManualTimeProvider();
        var catalog = new TestCatalog();
        setup?.Invoke(catalog);
        var engine = new ClientEngine((config ?? new EngineConfig()) with { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = catalog, Time = time, SaveResume = saveResume, Blocklist = blocklist });
        await engine.StartAsync();
        return new EngineHarness(engine, time, catalog, root);
    }

    /// <summary>A new torrent of a few files written under the harness folder (so adding it finds its data).</summary>
    public TorrentMetainfo NewTorrent(params long[] sizes)
    {
        int n = Interlocked.Increment(ref _torrents);
        return TestTorrents.CreateMultiFile(Root, $"t{n}", 16 * 1024, sizes.Length == 0 ? [40_000, 10_000] : sizes);
    }

    /// <summary>Adds a torrent whose data is complete: it seeds (with no peers, so nothing moves).</summary>
    public async Task<Torrent> AddSeedAsync(TorrentOptions? options = null, params long[] sizes)
    {
        var meta = NewTorrent(sizes);
        var t = await Engine.AddAsync(meta, (options ?? new TorrentOptions { SavePath = Root }) with { SavePath = Root });
        Assert.Equal(TorrentState.Seeding, t.State);
        return t;
    }

    /// <summary>Moves the clock on second by second; each engine tick has run when this returns.</summary>
    public async Task TickAsync(int seconds = 1)
    {
        for (int i = 0; i < seconds; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Engine.Loop.InvokeAsync(() => { });
        }
        await Engine.Loop.InvokeAsync(() => { }); // work the tick posted (a stop) has run too
    }

    public async Task<TorrentSnapshot> SnapshotAsync(Torrent t) =>
        (await Engine.GetSnapshotAsync()).Torrents.Single(s => s.Id == t.InfoHash.ToHex());

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

/// <summary>A peer source that counts what the engine asks of it.</summary>
internal sealed class CountingPeerSourceFactory : IPeerSourceFactory
{
    public List<CountingPeerSource> Created { get; } = [];
    public string Name => "counting";
    public string Version => "1";
    public string Description => "counts calls";
    public bool AllowedForPrivateTorrents => true;

    public IPeerSource Create(PeerSourceContext context)
    {
        var s = new CountingPeerSource(context);
        lock (Created) Created.Add(s);
        return s;
    }
}

internal sealed class CountingPeerSource(PeerSourceContext context) : IPeerSource
{
    private int _moreAsked;
    public PeerSourceContext Context { get; } = context;
    public int MorePeersAsked => Volatile.Read(ref _moreAsked);
    public ValueTask StartAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public void RequestMorePeers() => Interlocked.Increment(ref _moreAsked);
    public IReadOnlyList<PeerSourceStatus> GetStatus() => [];
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
