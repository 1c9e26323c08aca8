using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Testing;
using Wire = RTorrent.Engine.Tests.Client.DeepRequestQueueTests.Wire;

namespace RTorrent.Engine.Tests.Client;

/// <summary>BEP 16: a super-seed shows each new peer one piece at a time and the next once the last has spread.</summary>
public class SuperSeedingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int PieceLength = 16384;

    private static ClientEngine NewEngine(Xunit.Abstractions.ITestOutputHelper output, string tag) =>
        new(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, tag) });

    private static async Task<Wire> ConnectAsync(ClientEngine engine, TorrentMetainfo meta, List<Socket> sockets, CancellationToken ct) =>
        (await RawSeeder.HandshakeAsync(engine, meta, sockets, PeerFeatures.None, ct)).Wire;

    private static async Task<int> ReadHaveAsync(Wire wire, CancellationToken ct)
    {
        while (true)
        {
            var (id, payload) = await wire.ReadMessageAsync(ct);
            Assert.NotEqual(MessageId.Bitfield, id); // a super-seed shows no bitfield
            if (id == MessageId.Have) return BinaryPrimitives.ReadInt32BigEndian(payload);
        }
    }

    private static Task SendHaveAsync(Wire wire, int piece, CancellationToken ct)
    {
        var m = new byte[MessageWriter.HaveLength];
        MessageWriter.WriteHave(m, piece);
        return wire.SendAsync(m, ct);
    }

    private static Task SendRequestAsync(Wire wire, int piece, CancellationToken ct)
    {
        var m = new byte[17];
        BinaryPrimitives.WriteInt32BigEndian(m, 13);
        m[4] = (byte)MessageId.Request;
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(5), piece);
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(9), 0);
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(13), 1024);
        return wire.SendAsync(m, ct);
    }

    /// <summary>Reads until a PIECE arrives and returns its piece index.</summary>
    private static async Task<int> ReadPieceAsync(Wire wire, CancellationToken ct)
    {
        while (true)
        {
            var (id, payload) = await wire.ReadMessageAsync(ct);
            Assert.NotEqual(MessageId.Have, id);
            if (id == MessageId.Piece) return BinaryPrimitives.ReadInt32BigEndian(payload);
        }
    }

    [Fact]
    public async Task Each_peer_sees_one_piece_and_gets_the_next_only_when_its_piece_is_seen_at_another_peer()
    {
        var root = TestPaths.NewTempDir();
        var sockets = new List<Socket>();
        try
        {
            var dir = Path.Combine(root, "seed");
            var meta = TestTorrents.CreateMultiFile(dir, "payload", PieceLength, 8 * PieceLength);
            await using var engine = NewEngine(output, "S ");
            await engine.StartAsync();
            var t = await engine.AddAsync(meta, new TorrentOptions { SavePath = dir, SuperSeeding = true });
            Assert.Equal(TorrentState.Seeding, t.State);
            Assert.True(await engine.Loop.InvokeAsync(() => t.SuperSeedingActive));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

            var a = await ConnectAsync(engine, meta, sockets, cts.Token);
            int first = await ReadHaveAsync(a, cts.Token);
            await RawSeeder.BeUnchokedAsync(a, cts.Token);
            // A request for a piece it was not shown is ignored; the one for its piece is served (in order, so the
            // first PIECE back proves the other was dropped).
            int other = (first + 1) % meta.PieceCount;
            await SendRequestAsync(a, other, cts.Token);
            await SendRequestAsync(a, first, cts.Token);
            Assert.Equal(first, await ReadPieceAsync(a, cts.Token));

            // It has its piece now; another peer (b) lacks it, so a waits for the piece to spread.
            var b = await ConnectAsync(engine, meta, sockets, cts.Token);
            int second = await ReadHaveAsync(b, cts.Token);
            Assert.NotEqual(first, second);
            await SendHaveAsync(a, first, cts.Token);
            await SendRequestAsync(a, first, cts.Token); // a round trip: the HAVE before it has been handled
            Assert.Equal(first, await ReadPieceAsync(a, cts.Token));
            var (waiting, given) = await engine.Loop.InvokeAsync(() =>
            {
                var pa = t.ConnectedPeers.Single(p => p.PeerPieces[first]);
                return (pa.SuperSeed!.Waiting, pa.SuperSeed.Given.TrueCount);
            });
            Assert.True(waiting);
            Assert.Equal(1, given);

            // b announces a's piece: it spread, and a is shown a third piece.
            await SendHaveAsync(b, first, cts.Token);
            int third = await ReadHaveAsync(a, cts.Token);
            Assert.NotEqual(first, third);
            Assert.NotEqual(second, third);
            Assert.Equal(3, await engine.Loop.InvokeAsync(() => t.SuperSeedReveals));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Several_downloaders_complete_from_a_super_seed_which_then_seeds_normally()
    {
        var root = TestPaths.NewTempDir();
        var engines = new List<ClientEngine>();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var meta = TestTorrents.CreateMultiFile(seedDir, "payload", PieceLength, 24 * PieceLength + 5000);
            var seeder = NewEngine(output, "S ");
            engines.Add(seeder);
            await seeder.StartAsync();
            var seeding = await seeder.AddAsync(meta, new TorrentOptions { SavePath = seedDir, SuperSeeding = true });

            const int Count = 3;
            var leechers = new List<(ClientEngine Engine, Torrent Torrent, TaskCompletionSource Done)>();
            for (int i = 0; i < Count; i++)
            {
                var e = NewEngine(output, $"L{i} ");
                engines.Add(e);
                await e.StartAsync();
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                e.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
                leechers.Add((e, null!, done));
            }
            // Every downloader knows the seed and the downloaders before it (so they all talk to each other).
            for (int i = 0; i < Count; i++)
            {
                var peers = new List<IPEndPoint> { new(IPAddress.Loopback, seeder.ListenPort) };
                for (int j = 0; j < i; j++) peers.Add(new IPEndPoint(IPAddress.Loopback, leechers[j].Engine.ListenPort));
                var t = await leechers[i].Engine.AddAsync(meta, new TorrentOptions { SavePath = Path.Combine(root, $"leech{i}"), Peers = peers });
                leechers[i] = (leechers[i].Engine, t, leechers[i].Done);
            }
            await Task.WhenAll(leechers.Select(l => l.Done.Task)).WaitAsync(TimeSpan.FromSeconds(60));

            var expected = await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", "file0.bin"));
            for (int i = 0; i < Count; i++)
                Assert.Equal(expected, await File.ReadAllBytesAsync(Path.Combine(root, $"leech{i}", "payload", "file0.bin")));
            var log = (await seeder.GetDetailsAsync(seeding)).Log;
            Assert.Contains(log, l => l.Message.Contains("super-seeding done: every piece has been seen in the swarm"));
            Assert.False(seeding.SuperSeeding); // the option went off with it, and is saved so
            // Every piece was shown to someone before super-seeding ended (pieces come from the seed first).
            Assert.True(await seeder.Loop.InvokeAsync(() => seeding.SuperSeedReveals) >= meta.PieceCount);
        }
        finally
        {
            foreach (var e in engines) await e.DisposeAsync();
            Directory.Delete(root, true);
        }
    }
}
