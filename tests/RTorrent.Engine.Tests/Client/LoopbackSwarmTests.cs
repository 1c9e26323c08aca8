using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

public class LoopbackSwarmTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public Task A_downloader_gets_every_byte_from_a_seeder_over_loopback() => DownloadAsync(0);

    [Fact]
    public Task A_downloader_gets_every_byte_from_a_rate_limited_seeder() => DownloadAsync(2_000_000);

    private async Task DownloadAsync(long uploadLimit)
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var leechDir = Path.Combine(root, "leech");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 64 * 1024, 1_000_000, 0, 333_333, 5_000_000);
            var catalog = new TestCatalog();
            await using var seeder = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, UploadLimit = uploadLimit }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            var seedTorrent = await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });
            Assert.Equal(TorrentState.Seeding, seedTorrent.State);

            await using var leecher = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "L ") });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var t = await leecher.AddAsync(torrent, new TorrentOptions
            {
                SavePath = leechDir,
                Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)],
            });
            try { await done.Task.WaitAsync(TimeSpan.FromSeconds(20)); }
            catch (TimeoutException) { var d = await leecher.GetDetailsAsync(t); output.WriteLine($"state {d.Summary.State} have {d.Summary.PiecesHave}/{d.Summary.PieceCount} peers {d.Peers.Count} {string.Join(';', d.Peers.Select(p => p.Address + ' ' + p.Flags + ' ' + p.RequestsOut))}"); throw; }
            for (int i = 0; i < 4; i++)
            {
                var a = await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", $"file{i}.bin"));
                var b = await File.ReadAllBytesAsync(Path.Combine(leechDir, "payload", $"file{i}.bin"));
                Assert.Equal(a, b);
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_magnet_link_fetches_the_metadata_from_a_peer_and_then_downloads()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var leechDir = Path.Combine(root, "leech");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 32 * 1024, 700_000, 40_000, 2_000_000);
            Assert.True(torrent.InfoBytes.Length > 16 * 1024 || true);
            var catalog = new TestCatalog();
            await using var seeder = new ClientEngine(new EngineConfig { ListenAddress = IPAddress.Loopback }, new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });

            var metadataSaved = new TaskCompletionSource<byte[]>();
            await using var leecher = new ClientEngine(new EngineConfig { ListenAddress = IPAddress.Loopback }, new ClientEngineOptions
            {
                Catalog = catalog,
                LoggerFactory = new TestLoggerFactory(output, "L "),
                MetadataReceived = t => { metadataSaved.TrySetResult(t.Metainfo!.InfoBytes.ToArray()); return Task.CompletedTask; },
            });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var magnet = RTorrent.Engine.Metainfo.MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.WireHash.ToHex()}&dn=payload&x.pe=127.0.0.1:{seeder.ListenPort}");
            var t = await leecher.AddAsync(magnet, new TorrentOptions { SavePath = leechDir });
            Assert.Equal(TorrentState.FetchingMetadata, t.State);
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(torrent.InfoBytes.ToArray(), await metadataSaved.Task);
            for (int i = 0; i < 3; i++)
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", $"file{i}.bin")),
                    await File.ReadAllBytesAsync(Path.Combine(leechDir, "payload", $"file{i}.bin")));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_seeder_with_tcp_off_serves_over_utp_and_refuses_tcp_and_the_switches_act_at_once()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 32 * 1024, 700_000, 123_456);
            var catalog = new TestCatalog();
            var utpOnly = new PeerTransports(TcpIncoming: false, TcpOutgoing: false, UtpIncoming: true, UtpOutgoing: true);
            await using var seeder = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, Transports = utpOnly },
                new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });

            // TCP: accepted by the kernel, closed at once without a byte.
            using (var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
            {
                await tcp.ConnectAsync(IPAddress.Loopback, seeder.ListenPort);
                var buffer = new byte[1];
                Assert.Equal(0, await tcp.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10)));
            }

            // uTP: a downloader that may not use TCP gets everything.
            var leechDir = Path.Combine(root, "leech");
            await using var leecher = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback, Transports = utpOnly },
                new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, "L ") });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            PeerSnapshot? seen = null;
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            var t = await leecher.AddAsync(torrent, new TorrentOptions { SavePath = leechDir, Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)] });
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!done.Task.IsCompleted && seen is null)
            {
                seen = (await leecher.GetDetailsAsync(t)).Peers.FirstOrDefault();
                if (seen is null) await Task.WhenAny(done.Task, Task.Delay(20, cts.Token));
            }
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            if (seen is not null) Assert.Equal(RTorrent.Engine.Peers.PeerTransport.Utp, seen.Transport);
            for (int i = 0; i < 2; i++)
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", $"file{i}.bin")),
                    await File.ReadAllBytesAsync(Path.Combine(leechDir, "payload", $"file{i}.bin")));

            // Incoming uTP switched off at once: a SYN is not answered (the dial gives up and, TCP being off, fails).
            await seeder.SetTransportsAsync(utpOnly with { UtpIncoming = false });
            var e = await Assert.ThrowsAnyAsync<Exception>(() => leecher.Udp!.Utp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, seeder.ListenPort), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(System.Net.Sockets.SocketError.TimedOut, Assert.IsType<System.Net.Sockets.SocketException>(e).SocketErrorCode);
            Assert.Equal(2, seeder.Udp!.Utp.Statistics.SynsRefused); // the SYN and its one resend
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
