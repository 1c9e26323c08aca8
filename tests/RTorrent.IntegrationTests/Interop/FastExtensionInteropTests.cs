using System.Buffers.Binary;
using System.Collections.Concurrent;
using RTorrent.IntegrationTests.Harness;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Interop;

/// <summary>
/// BEP 6 with libtorrent (python3-libtorrent 2.0 speaks it by default): both directions negotiate the fast extension
/// and a transfer completes with it on: libtorrent's HAVE ALL understood when it seeds, ours when we do. The client
/// runs in-process so its log says which peers negotiated it. The download side's allowed-fast requests, rejects and
/// suggestions are shown against a hand-written fast seeder, which can be made to choke and reject; serving
/// allowed-fast pieces while choked and malformed messages are in the engine's FastWireTests.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class FastExtensionInteropTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Downloads_from_a_libtorrent_seeder_with_the_fast_extension_negotiated()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "fast.bin"), 2 * 1024 * 1024 + 4321, seed: 61);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "fast.bin"), tmp.PathOf("fast.torrent"), 32 * 1024);
        await using var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, output);

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, seeder.Port);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var log = await client.LogAsync(t);
        Assert.Contains(log, l => l.StartsWith($"connected to 127.0.0.1:{seeder.Port} (libtorrent", StringComparison.Ordinal) && l.Contains(", fast, out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Seeds_to_a_libtorrent_downloader_with_the_fast_extension_negotiated()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        Payload.WriteFile(Path.Combine(seedData, "fast.bin"), 3 * 1024 * 1024 - 999, seed: 62);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "fast.bin"), tmp.PathOf("fast.torrent"), 64 * 1024);

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var t = await client.AddAsync(torrent.Meta, seedData);
        await client.WaitCompleteAsync(t, Limits.Startup); // checked: seeding
        int port = client.Session.Engine.ListenPort;

        var save = tmp.Sub("download");
        await using var downloader = LibtorrentPeer.StartDownloader(torrent.FilePath, save, output, peers: port);
        await downloader.WaitFinishedAsync(Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        var log = await client.LogAsync(t);
        Assert.Contains(log, l => l.StartsWith("connected to 127.0.0.1:", StringComparison.Ordinal)
                                  && l.Contains("(libtorrent", StringComparison.Ordinal) && l.Contains(", fast, in", StringComparison.Ordinal));
    }

    /// <summary>What the hand-written fast seeder saw.</summary>
    private sealed class FastSeederLog
    {
        public volatile bool ClientSetFastBit;
        public byte FirstMessage;
        public readonly ConcurrentQueue<(int Piece, int Begin)> WhileChoked = new();
        public readonly ConcurrentQueue<(int Piece, int Begin)> Rejected = new();
        public readonly ConcurrentQueue<(int Piece, int Begin)> AfterUnchoke = new();
    }

    [Fact]
    public async Task Against_a_hand_written_fast_seeder_it_asks_only_for_allowed_fast_pieces_while_choked_and_takes_back_rejects_and_suggestions()
    {
        using var tmp = new TempFolder();
        var seedData = tmp.Sub("seed");
        const int pieceLength = 32 * 1024, pieces = 16;
        Payload.WriteFile(Path.Combine(seedData, "raw.bin"), pieces * pieceLength, seed: 63);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "raw.bin"), tmp.PathOf("raw.torrent"), pieceLength);
        var data = await File.ReadAllBytesAsync(Path.Combine(seedData, "raw.bin"));
        var seen = new FastSeederLog();
        int[] allowed = [2, 5];
        const int suggested = 11;

        await using var seeder = RawPeer.Start(torrent, "fast seeder", async (c, ct) =>
        {
            seen.ClientSetFastBit = (c.ClientReserved[7] & 0x04) != 0;
            await c.SendHandshakeAsync(ct, fast: true);
            await c.SendAsync((byte[])[.. WireFormat.Message(WireFormat.HaveAll), .. WireFormat.IndexMessage(WireFormat.AllowedFast, allowed[0]),
                .. WireFormat.IndexMessage(WireFormat.AllowedFast, allowed[1])], ct);
            async Task<(int Piece, int Begin, int Length)> NextRequestAsync()
            {
                while (true)
                {
                    if (await c.ReadMessageAsync(ct) is not { } m) continue;
                    if (seen.FirstMessage == 0) seen.FirstMessage = m.Id == 0 ? (byte)255 : m.Id;
                    if (m.Id != WireFormat.Request) continue;
                    return (BinaryPrimitives.ReadInt32BigEndian(m.Payload), BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(4)),
                        BinaryPrimitives.ReadInt32BigEndian(m.Payload.AsSpan(8)));
                }
            }
            Task ServeAsync((int Piece, int Begin, int Length) r) =>
                c.SendAsync(WireFormat.PieceMessage(r.Piece, r.Begin, data.AsSpan(r.Piece * pieceLength + r.Begin, r.Length)), ct);

            // Choked: both blocks of each allowed-fast piece are asked for; serve the first piece, reject the second.
            for (int i = 0; i < 4; i++)
            {
                var r = await NextRequestAsync();
                seen.WhileChoked.Enqueue((r.Piece, r.Begin));
                if (r.Piece == allowed[0]) await ServeAsync(r);
                else
                {
                    await c.SendAsync(WireFormat.BlockMessage(WireFormat.RejectRequest, r.Piece, r.Begin, r.Length), ct);
                    seen.Rejected.Enqueue((r.Piece, r.Begin));
                }
            }
            await c.SendAsync((byte[])[.. WireFormat.IndexMessage(WireFormat.SuggestPiece, suggested), .. WireFormat.Message(WireFormat.Unchoke)], ct);
            while (true)
            {
                var r = await NextRequestAsync();
                seen.AfterUnchoke.Enqueue((r.Piece, r.Begin));
                await ServeAsync(r);
            }
        });

        await using var client = await InProcessClient.OpenAsync(tmp.Sub("session"), output);
        var save = tmp.Sub("download");
        var t = await client.AddAsync(torrent.Meta, save, seeder.Port);
        await client.WaitCompleteAsync(t, Limits.Transfer);

        Payload.AssertSameTree(seedData, save);
        Assert.True(seen.ClientSetFastBit);
        Assert.Equal(WireFormat.HaveNone, seen.FirstMessage);
        Assert.Equal([(2, 0), (2, 16384), (5, 0), (5, 16384)], seen.WhileChoked.Order());
        Assert.Equal([(5, 0), (5, 16384)], seen.Rejected.Order());
        var after = seen.AfterUnchoke.ToArray();
        Assert.Equal(suggested, after[0].Piece); // the hint comes first once unchoked
        Assert.Contains((5, 0), after);           // the rejected blocks went back to the picker and were asked for again
        Assert.Contains((5, 16384), after);
        Assert.DoesNotContain(after, r => r.Piece == 2); // served while choked
        Assert.Equal(pieces * 2 - 2, after.Length);
    }
}
