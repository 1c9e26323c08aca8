using RTorrent.Engine.Client;
using RTorrent.Engine.Peers;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// uTP (BEP 29) against libtorrent's own implementation: libtorrent with TCP switched off both ways
/// (enable_incoming_tcp and enable_outgoing_tcp false), so every byte that moves went over uTP.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class UtpInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downloads_a_multi_file_torrent_from_a_libtorrent_seeder_that_speaks_only_utp()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "multi"), Payload.MultiFile, seed: 21);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "multi"), tmp.PathOf("multi.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, transport: "utp");

        var save = tmp.Sub("download");
        await using var client = RTorrentCli.Download("rtorrent", tmp.Path, output, torrent.FilePath, save, tmp.Sub("session"), [.. RTorrentCli.Peer(seeder.Port), "--utp", "--verbose"]);
        int code = await client.WaitForExitAsync(Limits.Transfer);

        Assert.True(code == 0, $"rtorrent exited with {code}.\n{client.Tail()}");
        Assert.Contains("Complete: 'multi' verified.", client.StandardError, StringComparison.Ordinal);
        Payload.AssertSameTree(seedData, save);
        Assert.Contains("PEER 127.0.0.1:", seeder.Process.StandardOutput, StringComparison.Ordinal); // TCP is off there: a uTP peer
    }

    [Fact]
    public async Task Seeds_to_a_libtorrent_downloader_that_speaks_only_utp()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "served"), Payload.MultiFile, seed: 22);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "served"), tmp.PathOf("served.torrent"), 64 * 1024);
        await using var seeder = RTorrentCli.Seed("rtorrent-seed", tmp.Path, output, torrent.FilePath, seedData, tmp.Sub("session"), "--verbose");
        int port = await RTorrentCli.WaitSeedingPortAsync(seeder);

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output, transport: "utp", peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.Contains($"PEER 127.0.0.1:{port}", downloader.Process.StandardOutput, StringComparison.Ordinal); // over uTP: TCP is off there
        Assert.False(seeder.HasExited, $"the seeder stopped.\n{seeder.Tail()}");
    }

    [Fact]
    public async Task A_swarm_of_one_utp_only_and_one_tcp_only_seeder_completes_with_both_transports_in_use()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "mixed.bin"), 6 * 1024 * 1024 + 4321, seed: 23);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "mixed.bin"), tmp.PathOf("mixed.torrent"), 64 * 1024);
        // Each seeder alone is slow, so the download needs both for a while.
        await using var utpSeeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-utp", uploadLimit: 1024 * 1024, transport: "utp");
        await using var tcpSeeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-tcp", uploadLimit: 1024 * 1024, transport: "tcp");

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, transports: PeerTransports.All);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, utpSeeder.Port, tcpSeeder.Port);
        var seen = new HashSet<(int Port, PeerTransport Transport)>();
        using var cts = new CancellationTokenSource(Limits.Transfer);
        while (t.State != Engine.Client.TorrentState.Seeding)
        {
            var d = await client.Session.Engine.GetDetailsAsync(t);
            foreach (var p in d.Peers) seen.Add((int.Parse(p.Address[(p.Address.LastIndexOf(':') + 1)..]), p.Transport));
            await Task.Delay(100, cts.Token);
        }
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameFile(Path.Combine(seedData, "mixed.bin"), Path.Combine(save, "mixed.bin"));
        Assert.Contains((utpSeeder.Port, PeerTransport.Utp), seen);
        Assert.Contains((tcpSeeder.Port, PeerTransport.Tcp), seen);
        var downloaded = (await client.Session.Engine.GetDetailsAsync(t)).Peers;
        output.WriteLine(string.Join("; ", downloaded.Select(p => $"{p.Address} {p.Transport} {p.Downloaded}")));
    }

    [Fact]
    public async Task A_utp_peer_that_stops_answering_mid_transfer_times_out_and_its_blocks_come_from_another_peer()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "frozen.bin"), 8 * 1024 * 1024 + 999, seed: 24);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "frozen.bin"), tmp.PathOf("frozen.torrent"), 64 * 1024);
        await using var utpSeeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-utp", uploadLimit: 512 * 1024, transport: "utp");
        await using var tcpSeeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, "lt-tcp", uploadLimit: 512 * 1024, transport: "tcp");

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output, transports: PeerTransports.All);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, utpSeeder.Port, tcpSeeder.Port);
        string utpAddress = $"127.0.0.1:{utpSeeder.Port}";
        // Both deliver; then the uTP seeder freezes with our requests in flight (SIGSTOP: no FIN, no RESET, nothing).
        await Poll.UntilAsync(async () =>
        {
            var d = await client.Session.Engine.GetDetailsAsync(t);
            var p = d.Peers.FirstOrDefault(p => p.Address == utpAddress);
            return p is { Transport: PeerTransport.Utp, Downloaded: > 256 * 1024, RequestsOut: > 0 } && d.Summary.PiecesHave < d.Summary.PieceCount / 2;
        }, Limits.Transfer, "the uTP seeder delivering with requests outstanding", TimeSpan.FromMilliseconds(50));
        utpSeeder.Process.SendSignal(Posix.SIGSTOP);
        try
        {
            await client.WaitForLogAsync(t, l => l.Contains($"disconnected {utpAddress}", StringComparison.Ordinal), Limits.Transfer,
                "the frozen uTP peer to be dropped");
            await client.WaitCompleteAsync(t, Limits.Transfer);
            Payload.AssertSameFile(Path.Combine(seedData, "frozen.bin"), Path.Combine(save, "frozen.bin"));
            var log = await client.LogAsync(t);
            output.WriteLine(string.Join('\n', log.Where(l => l.Contains(utpAddress, StringComparison.Ordinal))));
        }
        finally
        {
            utpSeeder.Process.SendSignal(Posix.SIGCONT);
        }
    }
}
