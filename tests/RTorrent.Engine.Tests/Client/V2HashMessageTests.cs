using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Testing;
using Xunit.Abstractions;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// BEP 52 hash messages against raw peers: a seeder of a v2 torrent answers good requests with hashes whose proof
/// reaches the pieces root, rejects out-of-range ones (and keeps the peer), and drops peers that send hashes nobody
/// asked for, malformed messages or hash messages on a v1 connection; a downloader whose layers come from a peer drops
/// it for a bad proof.
/// </summary>
public sealed class V2HashMessageTests(ITestOutputHelper output) : IAsyncDisposable
{
    private const int PieceLength = 32 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _root = TestPaths.NewTempDir("rt-v2-hash");
    private readonly List<Socket> _sockets = [];
    private readonly List<ClientEngine> _engines = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _sockets) s.Dispose();
        foreach (var e in _engines) await e.DisposeAsync();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    /// <summary>A torrent of two files: 'big' of 5 pieces and a bit (its layer of 6 pads to 8), 'small' of one piece.</summary>
    private async Task<TorrentMetainfo> CreateAsync(TorrentVersions version)
    {
        var dir = Path.Combine(_root, "seed", "v2hash");
        Directory.CreateDirectory(dir);
        var rng = new Random(52);
        var big = new byte[5 * PieceLength + 1000];
        rng.NextBytes(big);
        var small = new byte[20_000];
        rng.NextBytes(small);
        File.WriteAllBytes(Path.Combine(dir, "big"), big);
        File.WriteAllBytes(Path.Combine(dir, "small"), small);
        return (await TorrentCreator.CreateAsync(dir, new TorrentCreatorOptions { PieceLength = PieceLength, Version = version })).Metainfo;
    }

    private async Task<(ClientEngine Engine, Torrent Torrent)> StartAsync(TorrentMetainfo meta, string save, string prefix)
    {
        var engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, prefix) });
        _engines.Add(engine);
        await engine.StartAsync();
        var torrent = await engine.AddAsync(meta, new TorrentOptions { SavePath = save });
        return (engine, torrent);
    }

    private static byte[] HashMessage(MessageId id, ReadOnlySpan<byte> root, int @base, int index, int count, int proof, ReadOnlySpan<byte> hashes = default)
    {
        var m = new byte[5 + 48 + hashes.Length];
        MessageWriter.WriteHeader(m, id, 48 + hashes.Length);
        root.CopyTo(m.AsSpan(5));
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(37), @base);
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(41), index);
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(45), count);
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(49), proof);
        hashes.CopyTo(m.AsSpan(53));
        return m;
    }

    private static async Task<(MessageId Id, byte[] Payload)> ReadHashReplyAsync(DeepRequestQueueTests.Wire wire, CancellationToken ct)
    {
        while (true)
        {
            var m = await wire.ReadMessageAsync(ct);
            if (m.Id is MessageId.Hashes or MessageId.HashReject) return m;
        }
    }

    [Fact]
    public async Task A_piece_layer_request_is_answered_with_hashes_whose_proof_reaches_the_pieces_root()
    {
        var meta = await CreateAsync(TorrentVersions.V2);
        var (engine, _) = await StartAsync(meta, Path.Combine(_root, "seed"), "S ");
        using var cts = new CancellationTokenSource(Bound);
        var (wire, theirs) = await RawSeeder.HandshakeAsync(engine, meta, _sockets, PeerFeatures.Extensions | PeerFeatures.V2, cts.Token);
        Assert.True(theirs.HasFlag(PeerFeatures.V2));
        var big = meta.Files.Single(f => f.Path.EndsWith("big", StringComparison.Ordinal));

        // Two piece hashes (indexes 2 and 3 of the layer of 8) with the proof up to the layer under the root:
        // layers: blocks 0, piece 1 (2 blocks a piece), root at 4 (16 leaves). Proof 2 -> uncles at layers 2 and 3.
        await wire.SendAsync(HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, 1, 2, 2, 2), cts.Token);
        var (id, payload) = await ReadHashReplyAsync(wire, cts.Token);
        Assert.Equal(MessageId.Hashes, id);
        Assert.Equal(48 + 4 * 32, payload.Length);
        var layer = meta.V2!.LayerOf(big.Index)!;
        Assert.Equal(layer.AsSpan(2 * 32, 64).ToArray(), payload.AsSpan(48, 64).ToArray());
        // Fold: the pair's parent, then the two uncles, must give the pieces root.
        var node = new byte[32];
        MerkleTree.HashPair(payload.AsSpan(48, 32), payload.AsSpan(80, 32), node);
        MerkleTree.HashPair(payload.AsSpan(112, 32), node, node); // node 1 at layer 2: its uncle is on the left
        MerkleTree.HashPair(node, payload.AsSpan(144, 32), node); // node 0 at layer 3
        Assert.Equal(big.PiecesRoot.ToArray(), node);
    }

    [Theory]
    [InlineData(9, 0, 2, 0)]      // base above the root
    [InlineData(4, 0, 1, 0)]      // base is the root layer
    [InlineData(1, 6, 4, 0)]      // range past the layer's 8 nodes
    [InlineData(1, -1, 2, 0)]     // negative index
    [InlineData(1, 0, 0, 0)]      // empty range
    [InlineData(1, 0, 2, 3)]      // proof up to the root itself
    [InlineData(0, 1, 2, 0)]      // block hashes across two pieces
    [InlineData(1, 0, 2, -1)]     // negative proof
    public async Task An_out_of_range_request_is_rejected_and_the_peer_stays(int @base, int index, int count, int proof)
    {
        var meta = await CreateAsync(TorrentVersions.V2);
        var (engine, seeding) = await StartAsync(meta, Path.Combine(_root, "seed"), "S ");
        using var cts = new CancellationTokenSource(Bound);
        var (wire, _) = await RawSeeder.HandshakeAsync(engine, meta, _sockets, PeerFeatures.V2, cts.Token);
        var big = meta.Files.Single(f => f.Path.EndsWith("big", StringComparison.Ordinal));

        var request = HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, @base, index, count, proof);
        await wire.SendAsync(request, cts.Token);
        var (id, payload) = await ReadHashReplyAsync(wire, cts.Token);
        Assert.Equal(MessageId.HashReject, id);
        Assert.Equal(request.AsSpan(5).ToArray(), payload); // the request echoed

        // Still connected: a good request is answered.
        await wire.SendAsync(HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, 1, 0, 8, 2), cts.Token);
        Assert.Equal(MessageId.Hashes, (await ReadHashReplyAsync(wire, cts.Token)).Id);
        Assert.Equal(1, await engine.Loop.InvokeAsync(() => seeding.ConnectedPeers.Count));
    }

    [Fact]
    public async Task Block_hashes_of_a_piece_we_have_are_read_from_disk_and_proven_up_to_the_pieces_root()
    {
        var meta = await CreateAsync(TorrentVersions.V2);
        var (engine, _) = await StartAsync(meta, Path.Combine(_root, "seed"), "S ");
        using var cts = new CancellationTokenSource(Bound);
        var (wire, _) = await RawSeeder.HandshakeAsync(engine, meta, _sockets, PeerFeatures.V2, cts.Token);
        var big = meta.Files.Single(f => f.Path.EndsWith("big", StringComparison.Ordinal));
        var data = File.ReadAllBytes(Path.Combine(_root, "seed", big.Path));

        // Blocks 6 and 7 (piece 3) with the proof up to the layer under the root: uncles at layers 1, 2 and 3.
        await wire.SendAsync(HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, 0, 6, 2, 3), cts.Token);
        var (id, payload) = await ReadHashReplyAsync(wire, cts.Token);
        Assert.Equal(MessageId.Hashes, id);
        Assert.Equal(48 + 5 * 32, payload.Length);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(data.AsSpan(6 * 16384, 16384)), payload.AsSpan(48, 32).ToArray());
        var node = new byte[32];
        MerkleTree.HashPair(payload.AsSpan(48, 32), payload.AsSpan(80, 32), node); // piece 3: node 3 of layer 1
        MerkleTree.HashPair(payload.AsSpan(112, 32), node, node);                  // uncle node 2 -> node 1 of layer 2
        MerkleTree.HashPair(payload.AsSpan(144, 32), node, node);                  // uncle node 0 -> node 0 of layer 3
        MerkleTree.HashPair(node, payload.AsSpan(176, 32), node);                  // uncle node 1 -> the root
        Assert.Equal(big.PiecesRoot.ToArray(), node);
    }

    [Fact]
    public async Task A_request_naming_an_unknown_file_is_rejected()
    {
        var meta = await CreateAsync(TorrentVersions.V2);
        var (engine, _) = await StartAsync(meta, Path.Combine(_root, "seed"), "S ");
        using var cts = new CancellationTokenSource(Bound);
        var (wire, _) = await RawSeeder.HandshakeAsync(engine, meta, _sockets, PeerFeatures.V2, cts.Token);
        await wire.SendAsync(HashMessage(MessageId.HashRequest, new byte[32].Also(b => b[0] = 7), 1, 0, 2, 0), cts.Token);
        Assert.Equal(MessageId.HashReject, (await ReadHashReplyAsync(wire, cts.Token)).Id);
    }

    public static TheoryData<string> Hostile => ["unasked hashes", "short request", "hashes not whole", "v1 connection"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_peer_sending_hashes_nobody_asked_for_or_malformed_or_off_protocol_hash_messages_is_dropped(string what)
    {
        var meta = await CreateAsync(TorrentVersions.Hybrid);
        var (engine, seeding) = await StartAsync(meta, Path.Combine(_root, "seed"), "S ");
        using var cts = new CancellationTokenSource(Bound);
        var big = meta.Files.Single(f => f.Path.EndsWith("big", StringComparison.Ordinal));
        // A hybrid: a connection made with the v1 hash is a v1 connection; with the v2 hash, a v2 one.
        var hash = what == "v1 connection" ? meta.InfoHashV1!.Value : meta.InfoHashV2Truncated!.Value;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(socket);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, engine.ListenPort), cts.Token);
        var wire = new DeepRequestQueueTests.Wire(socket);
        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, hash, PeerIds.Create(), PeerFeatures.V2);
        await wire.SendAsync(handshake, cts.Token);
        var answer = new byte[Handshake.Length];
        await wire.ReadExactlyAsync(answer, cts.Token);
        // An incoming connection is answered with the hash it came with (no upgrade on our side).
        Assert.True(Handshake.TryRead(answer, out var answered, out _, out _) && answered == hash);

        byte[] message = what switch
        {
            "unasked hashes" => HashMessage(MessageId.Hashes, big.PiecesRoot.Span, 1, 0, 2, 0, new byte[64]),
            "short request" => HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, 1, 0, 2, 0)[..^4].Also(m => BinaryPrimitives.WriteInt32BigEndian(m, m.Length - 4)),
            "hashes not whole" => HashMessage(MessageId.Hashes, big.PiecesRoot.Span, 1, 0, 2, 0, new byte[40]),
            _ => HashMessage(MessageId.HashRequest, big.PiecesRoot.Span, 1, 0, 2, 0),
        };
        await wire.SendAsync(message, cts.Token);
        await RawSeeder.ReadUntilClosedAsync(wire, cts.Token);
        while (await engine.Loop.InvokeAsync(() => seeding.ConnectedPeers.Count) > 0) await Task.Delay(5, cts.Token);
    }

    [Fact]
    public async Task A_downloader_asks_a_v2_peer_for_missing_layers_and_drops_it_for_a_bad_proof()
    {
        var full = await CreateAsync(TorrentVersions.V2);
        // The torrent as a magnet's metadata would give it: the info dictionary alone, no piece layers.
        var bare = TorrentMetainfo.FromInfoDictionary(full.InfoBytes, []);
        Assert.False(bare.V2!.Complete);
        var (engine, downloading) = await StartAsync(bare, Path.Combine(_root, "get"), "D ");
        using var cts = new CancellationTokenSource(Bound);
        var (wire, _) = await RawSeeder.HandshakeAsync(engine, bare, _sockets, PeerFeatures.V2 | PeerFeatures.Fast, cts.Token);
        var haveAll = new byte[5];
        MessageWriter.WriteSimple(haveAll, MessageId.HaveAll);
        await wire.SendAsync(haveAll, cts.Token);

        byte[] request;
        while (true)
        {
            var (id, payload) = await wire.ReadMessageAsync(cts.Token);
            if (id == MessageId.Request) Assert.Fail("blocks requested before the piece layers were known");
            if (id != MessageId.HashRequest) continue;
            request = payload;
            break;
        }
        var big = full.Files.Single(f => f.Path.EndsWith("big", StringComparison.Ordinal));
        Assert.Equal(big.PiecesRoot.ToArray(), request[..32]);
        int count = BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(40));
        int proof = BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(44));
        Assert.Equal((1, 0, 8, 2), (BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(32)), BinaryPrimitives.ReadInt32BigEndian(request.AsSpan(36)), count, proof));

        // The right number of hashes, but wrong ones: the proof cannot reach the pieces root.
        var reply = new byte[5 + 48 + count * 32];
        MessageWriter.WriteHeader(reply, MessageId.Hashes, 48 + count * 32);
        request.CopyTo(reply, 5);
        reply.AsSpan(53).Fill(0x5A);
        await wire.SendAsync(reply, cts.Token);
        await RawSeeder.ReadUntilClosedAsync(wire, cts.Token);
        while (await engine.Loop.InvokeAsync(() => downloading.ConnectedPeers.Count) > 0) await Task.Delay(5, cts.Token);
        Assert.False(bare.V2.Complete);
    }
}
