using System.Net;
using System.Net.Sockets;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Testing;
using Wire = RTorrent.Engine.Tests.Client.DeepRequestQueueTests.Wire;

namespace RTorrent.Engine.Tests.Client;

/// <summary>BEP 21 partial seeds: we say upload_only when done with what we want, and we let go of upload-only peers we need nothing of.</summary>
public class UploadOnlyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int PieceLength = 16384;

    /// <summary>file0: pieces 0-1 (wanted), file1: piece 2 (skipped).</summary>
    private static TorrentMetainfo Payload(string dir) => TestTorrents.CreateMultiFile(dir, "payload", PieceLength, 2 * PieceLength, PieceLength);

    private static ClientEngine NewEngine(Xunit.Abstractions.ITestOutputHelper output, string tag) =>
        new(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, tag) });

    private static TorrentOptions SkipSecond(string dir, params IPEndPoint[] peers) =>
        new() { SavePath = dir, FilePriorities = [Priority.Normal, Priority.Skip], Peers = peers };

    private static async Task<Wire> ConnectAsync(ClientEngine engine, TorrentMetainfo meta, List<Socket> sockets, CancellationToken ct) =>
        (await RawSeeder.HandshakeAsync(engine, meta, sockets, PeerFeatures.Extensions, ct)).Wire;

    private static Task SendExtendedAsync(Wire wire, int id, byte[] payload, CancellationToken ct)
    {
        var m = new byte[6 + payload.Length];
        MessageWriter.WriteHeader(m, MessageId.Extended, 1 + payload.Length);
        m[5] = (byte)id;
        payload.CopyTo(m, 6);
        return wire.SendAsync(m, ct);
    }

    private static Task SendBitfieldAsync(Wire wire, int pieceCount, params int[] pieces)
    {
        var bits = new byte[(pieceCount + 7) / 8];
        foreach (int p in pieces) bits[p / 8] |= (byte)(0x80 >> (p % 8));
        var m = new byte[5 + bits.Length];
        MessageWriter.WriteHeader(m, MessageId.Bitfield, bits.Length);
        bits.CopyTo(m, 5);
        return wire.SendAsync(m, CancellationToken.None);
    }

    private static async Task<ExtensionHandshake> ReadHandshakeAsync(Wire wire, CancellationToken ct)
    {
        while (true)
        {
            var (id, payload) = await wire.ReadMessageAsync(ct);
            if (id == MessageId.Extended && payload[0] == 0) return ExtensionHandshake.Decode(payload.AsMemory(1));
        }
    }

    /// <summary>Reads until the engine closes the connection.</summary>
    private static async Task ReadUntilClosedAsync(Wire wire, CancellationToken ct) => await RawSeeder.ReadUntilClosedAsync(wire, ct);

    /// <summary>Waits until the torrent's log has a line containing <paramref name="text"/> (the peer leaves on a later loop turn).</summary>
    private static async Task WaitForLogAsync(ClientEngine engine, Torrent t, string text, CancellationToken ct)
    {
        while (!(await engine.GetDetailsAsync(t)).Log.Any(l => l.Message.Contains(text))) await Task.Delay(5, ct);
    }

    [Fact]
    public async Task A_partial_seed_says_upload_only_and_lets_go_of_an_upload_only_peer_but_keeps_a_downloader()
    {
        var root = TestPaths.NewTempDir();
        var sockets = new List<Socket>();
        try
        {
            var dir = Path.Combine(root, "data");
            var meta = Payload(dir);
            File.Delete(Path.Combine(dir, "payload", "file1.bin")); // only the wanted file is here
            await using var engine = NewEngine(output, "P ");
            await engine.StartAsync();
            var t = await engine.AddAsync(meta, SkipSecond(dir));
            Assert.Equal(TorrentState.Seeding, t.State);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

            // A downloader hears upload_only=1 and stays: it is served.
            var downloader = await ConnectAsync(engine, meta, sockets, cts.Token);
            var hs = await ReadHandshakeAsync(downloader, cts.Token);
            Assert.True(hs.UploadOnly);
            Assert.True(hs.Extensions.ContainsKey(ExtensionProtocol.UploadOnlyName));
            await SendExtendedAsync(downloader, 0, new ExtensionHandshake { Extensions = new() { ["ut_metadata"] = 3 } }.Encode(), cts.Token);
            await RawSeeder.BeUnchokedAsync(downloader, cts.Token);

            // A partial seed like us (upload_only=1 in its handshake): neither side wants anything; it is let go.
            var other = await ConnectAsync(engine, meta, sockets, cts.Token);
            await SendExtendedAsync(other, 0, new ExtensionHandshake { UploadOnly = true }.Encode(), cts.Token);
            await ReadUntilClosedAsync(other, cts.Token);
            Assert.False(cts.IsCancellationRequested);
            await WaitForLogAsync(engine, t, "both upload-only", cts.Token);
            Assert.Equal(1, await engine.Loop.InvokeAsync(() => t.ConnectedPeers.Count));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_downloader_drops_an_upload_only_peer_with_nothing_it_needs_and_keeps_one_with_something()
    {
        var root = TestPaths.NewTempDir();
        var sockets = new List<Socket>();
        try
        {
            var dir = Path.Combine(root, "data");
            var meta = Payload(Path.Combine(root, "source"));
            await using var engine = NewEngine(output, "D ");
            await engine.StartAsync();
            var t = await engine.AddAsync(meta, SkipSecond(dir));
            Assert.Equal(TorrentState.Downloading, t.State);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

            // Only the skipped file's piece, and upload-only: it will never need us and has nothing we want.
            var useless = await ConnectAsync(engine, meta, sockets, cts.Token);
            await SendBitfieldAsync(useless, meta.PieceCount, 2);
            await SendExtendedAsync(useless, 0, new ExtensionHandshake { UploadOnly = true }.Encode(), cts.Token);
            await ReadUntilClosedAsync(useless, cts.Token);
            Assert.False(cts.IsCancellationRequested);
            await WaitForLogAsync(engine, t, "upload-only peer has nothing we need", cts.Token);

            // Upload-only with a piece we want: we say Interested and keep it.
            var useful = await ConnectAsync(engine, meta, sockets, cts.Token);
            // (The handshake first this time: the Interested that answers the bitfield then comes after both.)
            await SendExtendedAsync(useful, 0, new ExtensionHandshake { UploadOnly = true }.Encode(), cts.Token);
            await SendBitfieldAsync(useful, meta.PieceCount, 0, 2);
            while ((await useful.ReadMessageAsync(cts.Token)).Id != MessageId.Interested) { }
            Assert.True(await engine.Loop.InvokeAsync(() => t.ConnectedPeers.Any(p => p.UploadOnly && p.AmInterested)));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Finishing_the_wanted_files_tells_connected_peers_upload_only()
    {
        var root = TestPaths.NewTempDir();
        var sockets = new List<Socket>();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var meta = Payload(seedDir);
            await using var seeder = NewEngine(output, "S ");
            await seeder.StartAsync();
            await seeder.AddAsync(meta, new TorrentOptions { SavePath = seedDir });
            await using var leecher = NewEngine(output, "L ");
            await leecher.StartAsync();
            var t = await leecher.AddAsync(meta, SkipSecond(Path.Combine(root, "leech")));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

            // A watcher that has nothing and names libtorrent's upload_only message under its id 7.
            var watcher = await ConnectAsync(leecher, meta, sockets, cts.Token);
            var first = await ReadHandshakeAsync(watcher, cts.Token);
            Assert.Null(first.UploadOnly); // still downloading
            await SendExtendedAsync(watcher, 0, new ExtensionHandshake { Extensions = new() { [ExtensionProtocol.UploadOnlyName] = 7 } }.Encode(), cts.Token);
            // The handshake is handled before the seeder is added: an Interested round trip would prove it, but the
            // watcher has nothing, so wait until the leecher knows its id.
            while (!await leecher.Loop.InvokeAsync(() => t.ConnectedPeers.Any(p => p.TheirExtensions.ContainsKey(ExtensionProtocol.UploadOnlyName))))
                await Task.Delay(5, cts.Token);

            await t.AddPeerAsync(new IPEndPoint(IPAddress.Loopback, seeder.ListenPort));
            while (true)
            {
                var (id, payload) = await watcher.ReadMessageAsync(cts.Token);
                if (id != MessageId.Extended || payload[0] != 7) continue;
                Assert.Equal([7, 1], payload);
                break;
            }
            Assert.Equal(TorrentState.Seeding, t.State);
            Assert.Equal(File.ReadAllBytes(Path.Combine(seedDir, "payload", "file0.bin")),
                File.ReadAllBytes(Path.Combine(root, "leech", "payload", "file0.bin")));
            Assert.False(File.Exists(Path.Combine(root, "leech", "payload", "file1.bin")));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void The_handshake_carries_upload_only_only_when_set()
    {
        Assert.True(ExtensionHandshake.Decode(new ExtensionHandshake { UploadOnly = true }.Encode()).UploadOnly);
        Assert.Null(ExtensionHandshake.Decode(new ExtensionHandshake { UploadOnly = false }.Encode()).UploadOnly);
        Assert.False(ExtensionHandshake.Decode("d1:md11:upload_onlyi3ee11:upload_onlyi0ee"u8.ToArray()).UploadOnly);
    }
}
