using System.Collections.Concurrent;
using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Hash checks take turns (issue 13): torrents added together are checked a bounded number at a time, the others wait
/// in Checking, and a torrent stopped while it waits leaves the queue without reading anything.
/// </summary>
public class CheckQueueTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-checkq");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (deadline.IsCancellationRequested) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Torrents_added_together_are_checked_one_at_a_time_in_order_when_one_slot_is_allowed()
    {
        var catalog = new GatedCatalog();
        await using var engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, MaxActiveChecks = 1 },
            new ClientEngineOptions { Catalog = catalog });
        await engine.StartAsync();
        var metas = Enumerable.Range(0, 4).Select(i => TestTorrents.CreateMultiFile(_root, $"c{i}", 16 * 1024, 40_000 + i)).ToArray();

        var adds = new List<Task<Torrent>>();
        foreach (var m in metas)
        {
            adds.Add(engine.AddAsync(m, new TorrentOptions { SavePath = _root }));
            await WaitUntilAsync(() => engine.Checks.Running + engine.Checks.Waiting == adds.Count, "the torrent asked for its check");
        }
        await WaitUntilAsync(() => catalog.Readers.Count == 1, "the first check reads");

        // One torrent reads; the three others wait their turn, shown as checking, and have read nothing.
        Assert.Equal((1, 3), (engine.Checks.Running, engine.Checks.Waiting));
        Assert.Equal([metas[0].WireHash.ToHex()], catalog.Readers.Keys);
        Assert.All((await engine.GetSnapshotAsync()).Torrents, t => Assert.Equal(TorrentState.Checking, t.State));

        catalog.Open();
        var torrents = await Task.WhenAll(adds);
        Assert.All(torrents, t => Assert.Equal(TorrentState.Seeding, t.State));
        Assert.Equal(1, engine.Checks.MostRunning);
        Assert.Equal(metas.Select(m => m.WireHash.ToHex()), catalog.FirstReadOrder);
    }

    [Fact]
    public async Task A_torrent_stopped_while_it_waits_for_its_check_leaves_the_queue_without_reading()
    {
        var catalog = new GatedCatalog();
        await using var engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, MaxActiveChecks = 1 },
            new ClientEngineOptions { Catalog = catalog });
        await engine.StartAsync();
        var first = TestTorrents.CreateMultiFile(_root, "first", 16 * 1024, 40_000);
        var second = TestTorrents.CreateMultiFile(_root, "second", 16 * 1024, 40_001);
        var a = engine.AddAsync(first, new TorrentOptions { SavePath = _root });
        await WaitUntilAsync(() => catalog.Readers.Count == 1, "the first check reads");
        var b = engine.AddAsync(second, new TorrentOptions { SavePath = _root }, start: false);
        await WaitUntilAsync(() => engine.Checks.Waiting == 1, "the second waits");
        var waiting = engine.Torrents.Single(t => t.InfoHash == second.WireHash);

        await waiting.StopAsync();
        await b;
        Assert.Equal(TorrentState.Stopped, waiting.State);
        Assert.Equal(0, engine.Checks.Waiting);
        Assert.True(await engine.Loop.InvokeAsync(() => waiting.CheckPending), "its pieces are not known");
        Assert.False(catalog.Readers.ContainsKey(second.WireHash.ToHex()));

        catalog.Open();
        Assert.Equal(TorrentState.Seeding, (await a).State);
    }

    /// <summary>Plain files whose reads wait until <see cref="Open"/>, recording which torrents read and in what order.</summary>
    private sealed class GatedCatalog : IComponentCatalog, IStorageFactory
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> _order = new();
        public ConcurrentDictionary<string, int> Readers { get; } = new();
        public IReadOnlyList<string> FirstReadOrder => [.. _order];
        public void Open() => _gate.TrySetResult();
        public IPiecePickerFactory? FindPicker(string name) => name == "rarest-first" ? new RarestFirstPickerFactory() : null;
        public IStorageFactory? FindStorage(string name) => name == "file" ? this : null;
        public IReadOnlyList<IPeerSourceFactory> PeerSources => [];
        public string Name => "file";
        public string Version => "test";
        public string Description => "reads wait for a gate";
        public ITorrentStorage Open(StorageContext context) => new Gated(new PlainFileStorage(context), context.InfoHashHex, this);

        private sealed class Gated(ITorrentStorage inner, string torrent, GatedCatalog owner) : ITorrentStorage
        {
            public async ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
            {
                if (owner.Readers.TryAdd(torrent, 1)) owner._order.Enqueue(torrent);
                await owner._gate.Task.WaitAsync(cancellationToken);
                return await inner.ReadAsync(fileIndex, offset, buffer, cancellationToken);
            }

            public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
                inner.WriteAsync(fileIndex, offset, data, cancellationToken);
            public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
            public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) =>
                inner.PrepareAsync(fileIndex, preallocate, cancellationToken);
            public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) =>
                inner.ProbeAsync(fileIndex, cancellationToken);
            public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => inner.MoveAsync(newSaveDirectory, cancellationToken);
            public ValueTask DeleteAsync(CancellationToken cancellationToken) => inner.DeleteAsync(cancellationToken);
            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
