using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Client.Extensions;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

public class PeerExchangeTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_peer_that_knows_only_one_other_learns_the_third_through_pex()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var torrent = TestTorrents.CreateMultiFile(Path.Combine(root, "src"), "payload", 16384, 100_000);
            var catalog = new TestCatalog();
            catalog.Sources.Add(new PexPeerSourceFactory());
            var engines = new List<ClientEngine>();
            try
            {
                var torrents = new List<Torrent>();
                foreach (var name in new[] { "a", "b", "c" })
                {
                    var e = new ClientEngine(new EngineConfig { ListenAddress = IPAddress.Loopback },
                        new ClientEngineOptions { Catalog = catalog, LoggerFactory = new TestLoggerFactory(output, name + " ") });
                    engines.Add(e);
                    await e.StartAsync();
                }
                var b = engines[1];
                foreach (var (e, i) in engines.Select((e, i) => (e, i)))
                {
                    var peers = i == 1 ? Array.Empty<IPEndPoint>() : [new IPEndPoint(IPAddress.Loopback, b.ListenPort)];
                    torrents.Add(await e.AddAsync(torrent, new TorrentOptions { SavePath = Path.Combine(root, "dl" + i), Peers = peers }));
                }
                var deadline = DateTime.UtcNow.AddSeconds(30);
                TorrentDetails details;
                do
                {
                    await Task.Delay(250);
                    details = await engines[0].GetDetailsAsync(torrents[0]);
                } while (details.Peers.Count < 2 && DateTime.UtcNow < deadline);
                // a was told only of b; its second connection is c, learned through PEX (either side may have
                // dialled: when both dial at once, one connection is kept on both ends).
                Assert.Equal(2, details.Peers.Count);
                var pexStatus = Assert.Single(details.Sources, s => s.Source == "pex");
                Assert.True(pexStatus.PeersReported >= 1);
                var c = await engines[2].GetDetailsAsync(torrents[2]);
                Assert.Equal(2, c.Peers.Count);
            }
            finally
            {
                foreach (var e in engines) await e.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void Pex_messages_round_trip_and_garbage_is_a_protocol_error()
    {
        var added = new List<IPEndPoint> { new(IPAddress.Loopback, 1234), new(IPAddress.IPv6Loopback, 80) };
        var msg = PexPeerSource.Encode(added, [0x10, 0x02], [new IPEndPoint(IPAddress.Parse("10.0.0.1"), 5)]);
        Assert.Equal(added, PexPeerSource.DecodeAdded(msg));
        Assert.Throws<RTorrent.Engine.Peers.PeerProtocolException>(() => PexPeerSource.DecodeAdded("not bencode"u8.ToArray()));
        Assert.Throws<RTorrent.Engine.Peers.PeerProtocolException>(() => PexPeerSource.DecodeAdded("d5:added5:abcdee"u8.ToArray()));
        var flood = new byte[6 * 1000];
        for (int i = 0; i < 1000; i++) { flood[i * 6] = 10; flood[i * 6 + 5] = 1; }
        var big = RTorrent.Engine.Bencode.BencodeWriter.Encode(new RTorrent.Engine.Bencode.BDictionary { ["added"] = new RTorrent.Engine.Bencode.BString(flood) });
        Assert.Equal(PexPeerSource.MaxAcceptedPerMessage, PexPeerSource.DecodeAdded(big).Count);
    }
}
