using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Testing;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>
/// A download from a second session on loopback (its upload limited so the transfer lasts a few seconds): the
/// fields that describe peers and pieces while it runs, and the totals when it is done.
/// </summary>
public sealed class TorrentPeersTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;
    private ClientSession _seeder = null!;
    private string _seederDir = null!;

    public async Task InitializeAsync()
    {
        _h = await TransmissionHarness.StartAsync();
        _seederDir = TestPaths.NewTempDir("rt-tr-seed");
        _seeder = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = Path.Combine(_seederDir, "session"),
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0, UploadLimit = 400_000, DefaultSavePath = _seederDir },
            LoadPlugins = false,
            EnableDht = false,
            DhtUsePublicRouters = false,
            DisabledPeerSources = ["dht", "pex", "lsd", "tracker"],
        }).WaitAsync(TransmissionHarness.Limit);
    }

    public async Task DisposeAsync()
    {
        if (_seeder is not null) await _seeder.DisposeAsync();
        await _h.DisposeAsync();
        try { Directory.Delete(_seederDir, true); }
        catch (IOException) { /* left in /tmp */ }
    }

    [Fact]
    public async Task While_downloading_peers_availability_and_progress_show_and_when_done_the_totals()
    {
        const int size = 1_500_000;
        var (path, meta, data) = await _h.MakeTorrentAsync("swarm.bin", size);
        await File.WriteAllBytesAsync(Path.Combine(_seederDir, "swarm.bin"), data);
        var seed = await _seeder.AddAsync(meta, new TorrentOptions { SavePath = _seederDir }).WaitAsync(TransmissionHarness.Limit);
        Assert.Equal(TorrentState.Seeding, seed.State);

        long id = await _h.AddAsync(path, paused: false);
        var leech = _h.Engine.Find(meta.WireHash.ToHex())!;
        await leech.AddPeerAsync(new IPEndPoint(IPAddress.Loopback, _seeder.Engine.ListenPort));

        string[] fields = ["status", "peers", "peersConnected", "peersSendingToUs", "availability", "desiredAvailable", "percentDone",
            "leftUntilDone", "eta", "rateDownload", "pieces"];
        var t = await _h.WaitForAsync(id, t => t.GetProperty("peersSendingToUs").GetInt32() == 1 && t.GetProperty("rateDownload").GetInt64() > 0
            && t.GetProperty("percentDone").GetDouble() is > 0 and < 0.8, "downloading from the seeder", fields);
        Assert.Equal(4, t.GetProperty("status").GetInt32());
        var peer = Assert.Single(t.GetProperty("peers").EnumerateArray());
        Assert.Equal(("127.0.0.1", _seeder.Engine.ListenPort), (peer.GetProperty("address").GetString(), peer.GetProperty("port").GetInt32()));
        Assert.True(peer.GetProperty("isDownloadingFrom").GetBoolean());
        Assert.True(peer.GetProperty("clientIsInterested").GetBoolean());
        Assert.False(peer.GetProperty("clientIsChoked").GetBoolean());
        Assert.False(peer.GetProperty("isIncoming").GetBoolean());
        // Dialled over TCP, the default (docs/UTP.md): Transmission's isUTP false and no flag letter T.
        Assert.False(peer.GetProperty("isUTP").GetBoolean());
        Assert.Contains("D", peer.GetProperty("flagStr").GetString()!, StringComparison.Ordinal);
        Assert.DoesNotContain("T", peer.GetProperty("flagStr").GetString()!, StringComparison.Ordinal);
        Assert.Equal(1.0, peer.GetProperty("progress").GetDouble());
        Assert.False(string.IsNullOrEmpty(peer.GetProperty("clientName").GetString()));
        var availability = t.GetProperty("availability").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(meta.PieceCount, availability.Length);
        Assert.All(availability, n => Assert.True(n is -1 or 1, $"{n}"));
        Assert.Contains(1, availability);
        long left = t.GetProperty("leftUntilDone").GetInt64();
        Assert.InRange(t.GetProperty("desiredAvailable").GetInt64(), 1, left);
        Assert.True(t.GetProperty("eta").GetInt64() >= 0);

        var done = await _h.WaitForAsync(id, t => t.GetProperty("status").GetInt32() == 6, "complete",
            "status", "percentDone", "doneDate", "downloadedEver", "uploadRatio", "haveValid", "pieces", "desiredAvailable", "corruptEver", "secondsDownloading");
        Assert.Equal(1.0, done.GetProperty("percentDone").GetDouble());
        Assert.True(done.GetProperty("doneDate").GetInt64() > 0);
        Assert.InRange(done.GetProperty("downloadedEver").GetInt64(), size, size + 16 * 1024 * 4);
        Assert.Equal(0, done.GetProperty("uploadRatio").GetDouble());
        Assert.Equal(size, done.GetProperty("haveValid").GetInt64());
        Assert.Equal(0, done.GetProperty("desiredAvailable").GetInt64());
        Assert.Equal(0, done.GetProperty("corruptEver").GetInt64());
        var bits = Convert.FromBase64String(done.GetProperty("pieces").GetString()!);
        Assert.Equal((meta.PieceCount + 7) / 8, bits.Length);
        Assert.Equal(meta.PieceCount, bits.Sum(b => System.Numerics.BitOperations.PopCount(b)));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(_h.Downloads, "swarm.bin")));
        _ = Args();
    }
}
