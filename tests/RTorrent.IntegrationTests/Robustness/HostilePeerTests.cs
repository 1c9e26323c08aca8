using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Robustness;

/// <summary>
/// Peers that lie or break the protocol, next to an honest libtorrent seeder. Our client runs in-process so the test
/// can read its log (bans, disconnect reasons) and ask it to reconnect a banned peer.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class HostilePeerTests(ITestOutputHelper output)
{
    /// <summary>How the lying seeder paces its wrong blocks.</summary>
    public enum Liar
    {
        /// <summary>Answers every request at once: whole pieces come from it alone, so the first bad piece names it.</summary>
        Fast,
        /// <summary>
        /// Answers every block it is asked for but the last one of each piece, then chokes for a moment (voiding that
        /// request) so the honest seeder must send it: it never completes a piece alone, every piece it touches fails
        /// with two contributors, and only a client that finds out which blocks were wrong can tell who lied.
        /// </summary>
        WithholdsOneBlockPerPiece,
    }

    /// <param name="pieceLength">Bytes per piece.</param>
    /// <param name="style">How the liar lies.</param>
    /// <param name="honestRate">
    /// The honest seeder's rate. With the fast liar, about 12 s: it is banned at once, and a wrongly forgiven liar would
    /// be dialled again (10 s after it left) before the end.
    /// </param>
    [Theory]
    [InlineData(32 * 1024, Liar.Fast, 160 * 1024)]
    [InlineData(64 * 1024, Liar.WithholdsOneBlockPerPiece, 320 * 1024)]
    public async Task A_seeder_sending_corrupt_blocks_is_banned_and_never_redialled_and_the_download_completes_from_an_honest_one(
        int pieceLength, Liar style, int honestRate)
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "target.bin"), 2 * 1024 * 1024 - 777, seed: 31);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "target.bin"), tmp.PathOf("target.torrent"), pieceLength);
        await using var honest = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, uploadLimit: honestRate);
        await using var liar = RawPeer.Start(torrent, "corrupt blocks", (c, ct) => SendWrongDataAsync(c, style, ct));

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, liar.Port, honest.Port);
        var liarEndPoint = new IPEndPoint(IPAddress.Loopback, liar.Port);
        await client.WaitForLogAsync(t, l => l.StartsWith($"banned {liarEndPoint}", StringComparison.Ordinal), Limits.Transfer, "the liar banned");
        // A source offering the banned peer again (a tracker, PEX) must not bring it back.
        await t.AddPeerAsync(liarEndPoint);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var summary = (await client.Session.Engine.GetDetailsAsync(t)).Summary;
        Assert.True(liar.BadBlocksSent > 0, "the liar was never asked for a block");
        Assert.True(summary.HashFailures >= 1, "no piece failed its hash check");
        Assert.Equal(1, liar.Accepted);
        var log = await client.LogAsync(t);
        Assert.DoesNotContain(log, l => l.StartsWith($"banned 127.0.0.1:{honest.Port}", StringComparison.Ordinal));
    }

    /// <summary>Handshake, every piece, unchoke, then random bytes for the blocks asked for, as <paramref name="style"/> says.</summary>
    private static async Task SendWrongDataAsync(RawPeerConnection c, Liar style, CancellationToken ct)
    {
        await c.SendHandshakeAsync(ct);
        await c.SendAsync(WireFormat.FullBitfield(c.Owner.Torrent.Meta.PieceCount), ct);
        await c.SendAsync(WireFormat.Message(WireFormat.Unchoke), ct);
        var rng = new Random(c.Owner.Port);
        if (style == Liar.WithholdsOneBlockPerPiece)
        {
            await WithholdOneBlockPerPieceAsync(c, rng, ct);
            return;
        }
        while (true)
        {
            if (await c.ReadMessageAsync(ct) is not { Id: WireFormat.Request } m) continue;
            await SendJunkAsync(c, rng, BinaryPrimitives.ReadInt32BigEndian(m.Payload), BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(4)),
                BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(8)), ct);
        }
    }

    private static async Task SendJunkAsync(RawPeerConnection c, Random rng, int index, int begin, int length, CancellationToken ct)
    {
        var junk = new byte[length];
        rng.NextBytes(junk);
        await c.SendAsync(WireFormat.PieceMessage(index, begin, junk), ct);
        Interlocked.Increment(ref c.Owner.BadBlocksSent);
    }

    private static async Task WithholdOneBlockPerPieceAsync(RawPeerConnection c, Random rng, CancellationToken ct)
    {
        while (true)
        {
            // Gather a batch of requests (until the client pauses), answer all but each piece's last block, choke.
            var batch = new List<(int Index, int Begin, int Length)>();
            while (batch.Count == 0 || await c.HasPendingAsync(TimeSpan.FromMilliseconds(150), ct))
            {
                if (await c.ReadMessageAsync(ct) is not { Id: WireFormat.Request } m) continue;
                batch.Add((BinaryPrimitives.ReadInt32BigEndian(m.Payload), BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(4)),
                    BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(8))));
            }
            foreach (var piece in batch.GroupBy(r => r.Index))
            {
                int withheld = piece.Max(r => r.Begin);
                foreach (var r in piece.Where(r => r.Begin != withheld)) await SendJunkAsync(c, rng, r.Index, r.Begin, r.Length, ct);
            }
            await c.SendAsync(WireFormat.Message(WireFormat.Choke), ct);
            await Task.Delay(1000, ct);
            await c.SendAsync(WireFormat.Message(WireFormat.Unchoke), ct);
        }
    }

    [Fact]
    public async Task Peers_that_break_the_protocol_are_dropped_and_the_download_completes_from_an_honest_seeder()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "robust.bin"), 1536 * 1024 + 5, seed: 32);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "robust.bin"), tmp.PathOf("robust.torrent"), 16 * 1024);
        await using var honest = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output, uploadLimit: 512 * 1024);

        var dropped = new ConcurrentDictionary<string, bool>();
        Func<RawPeerConnection, CancellationToken, Task> Misbehave(string name, Func<RawPeerConnection, CancellationToken, Task> act, bool extensions = false) =>
            async (c, ct) =>
            {
                await c.SendHandshakeAsync(ct, extensions);
                await act(c, ct);
                dropped[name] = await c.WaitForCloseAsync(TimeSpan.FromSeconds(30), ct);
            };
        int pieces = torrent.Meta.PieceCount;
        RawPeer[] hostile =
        [
            RawPeer.Start(torrent, "oversized length prefix", Misbehave("oversized length prefix", (c, ct) =>
                c.SendAsync(new byte[] { 0x7f, 0xff, 0xff, 0xf0, WireFormat.Piece, 0, 0, 0, 0 }, ct))),
            RawPeer.Start(torrent, "garbage after the handshake", Misbehave("garbage after the handshake", (c, ct) =>
            {
                var junk = new byte[64 * 1024];
                new Random(7).NextBytes(junk);
                Encoding.ASCII.GetBytes("GET /announce HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", junk);
                return c.SendAsync(junk, ct);
            })),
            RawPeer.Start(torrent, "bitfield of the wrong length", Misbehave("bitfield of the wrong length", (c, ct) =>
                c.SendAsync(WireFormat.Message(WireFormat.Bitfield, new byte[(pieces + 7) / 8 + 1]), ct))),
            RawPeer.Start(torrent, "malformed extended handshake", Misbehave("malformed extended handshake", (c, ct) =>
                c.SendAsync(WireFormat.ExtendedMessage(0, "d1:md1:xi1e"u8), ct), extensions: true)),
            RawPeer.Start(torrent, "HAVE of the wrong size", Misbehave("HAVE of the wrong size", (c, ct) =>
                c.SendAsync(WireFormat.Message(WireFormat.Have, [0, 1]), ct))),
            RawPeer.Start(torrent, "request beyond the last piece", Misbehave("request beyond the last piece", async (c, ct) =>
            {
                await c.SendAsync(WireFormat.Message(WireFormat.Interested), ct);
                var request = new byte[12];
                BinaryPrimitives.WriteInt32BigEndian(request, pieces + 1000);
                BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 16 * 1024);
                await c.SendAsync(WireFormat.Message(WireFormat.Request, request), ct);
            })),
        ];
        try
        {
            await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
            var save = tmp.Sub("download");
            var t = await client.AddAsync(torrent.Meta, save, [.. hostile.Select(h => h.Port), honest.Port]);
            await client.WaitCompleteAsync(t, Limits.Transfer);
            Payload.AssertSameTree(seedData, save);

            var log = await client.LogAsync(t);
            foreach (var h in hostile)
            {
                await Poll.UntilAsync(() => dropped.ContainsKey(h.Name), TimeSpan.FromSeconds(40), $"the '{h.Name}' peer finished its act");
                Assert.True(dropped[h.Name], $"the peer sending a {h.Name} was not disconnected");
                var reason = log.FirstOrDefault(l => l.StartsWith($"disconnected 127.0.0.1:{h.Port}: ", StringComparison.Ordinal));
                output.WriteLine($"{h.Name}: {reason}");
                Assert.NotNull(reason);
                Assert.DoesNotContain("torrent stopped", reason, StringComparison.Ordinal);
                Assert.DoesNotContain("both seeds", reason, StringComparison.Ordinal);
                Assert.DoesNotContain("closed by peer", reason, StringComparison.Ordinal);
            }
        }
        finally
        {
            foreach (var h in hostile) await h.DisposeAsync();
        }
    }
}
