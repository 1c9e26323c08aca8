using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A seeding engine with one torrent, and raw connections to it that speak the wire as a test (or a hostile peer)
/// chooses: the setup the request, queue and flood tests share. Disposing stops the engine and deletes the files.
/// </summary>
internal sealed class RawSeeder : IAsyncDisposable
{
    private readonly string _root;
    private readonly List<Socket> _sockets = [];

    private RawSeeder(string root, string seedDir, TorrentMetainfo torrent, ClientEngine engine, Torrent seeding)
    {
        _root = root;
        SeedDir = seedDir;
        Metainfo = torrent;
        Engine = engine;
        Seeding = seeding;
    }

    public string SeedDir { get; }
    public TorrentMetainfo Metainfo { get; }
    public ClientEngine Engine { get; }
    public Torrent Seeding { get; }

    /// <summary>What the seeder's handshake advertised on the last connection.</summary>
    public PeerFeatures SeederFeatures { get; private set; }

    /// <summary>The bytes of the torrent's first file.</summary>
    public byte[] FirstFile() => File.ReadAllBytes(Path.Combine(SeedDir, "payload", "file0.bin"));

    /// <summary>Starts a seeder of a one-folder torrent of <paramref name="size"/> bytes in pieces of <paramref name="pieceLength"/>.</summary>
    public static async Task<RawSeeder> StartAsync(Xunit.Abstractions.ITestOutputHelper output, int pieceLength, int size)
    {
        var root = TestPaths.NewTempDir();
        var seedDir = Path.Combine(root, "seed");
        var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", pieceLength, size);
        var engine = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
            new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, "S ") });
        await engine.StartAsync();
        var seeding = await engine.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });
        return new RawSeeder(root, seedDir, torrent, engine, seeding);
    }

    /// <summary>Connects and exchanges handshakes (extensions on); with <paramref name="unchoked"/>, also says Interested and waits for Unchoke.</summary>
    public async Task<DeepRequestQueueTests.Wire> ConnectAsync(CancellationToken ct, bool unchoked = false,
        PeerFeatures features = PeerFeatures.Extensions)
    {
        var (wire, theirs) = await HandshakeAsync(Engine, Metainfo, _sockets, features, ct);
        SeederFeatures = theirs;
        if (unchoked) await BeUnchokedAsync(wire, ct);
        return wire;
    }

    /// <summary>
    /// A raw peer of any engine: connects to its listen port (the socket goes into <paramref name="sockets"/>, for the
    /// caller to dispose) and exchanges handshakes for <paramref name="meta"/>; returns the wire and the engine's features.
    /// </summary>
    public static async Task<(DeepRequestQueueTests.Wire Wire, PeerFeatures Theirs)> HandshakeAsync(ClientEngine engine,
        TorrentMetainfo meta, List<Socket> sockets, PeerFeatures features, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sockets.Add(socket);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, engine.ListenPort), ct);
        var wire = new DeepRequestQueueTests.Wire(socket);
        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, meta.WireHash, PeerIds.Create(), features);
        await wire.SendAsync(handshake, ct);
        var theirs = new byte[Handshake.Length];
        await wire.ReadExactlyAsync(theirs, ct);
        Handshake.TryRead(theirs, out _, out _, out var theirFeatures);
        return (wire, theirFeatures);
    }

    /// <summary>Says Interested and reads until the seeder unchokes us.</summary>
    public static async Task BeUnchokedAsync(DeepRequestQueueTests.Wire wire, CancellationToken ct)
    {
        var interested = new byte[5];
        MessageWriter.WriteSimple(interested, MessageId.Interested);
        await wire.SendAsync(interested, ct);
        while ((await wire.ReadMessageAsync(ct)).Id != MessageId.Unchoke) { }
    }

    /// <summary>Reads until the seeder closes the connection.</summary>
    public static async Task ReadUntilClosedAsync(DeepRequestQueueTests.Wire wire, CancellationToken ct, Action<MessageId, byte[]>? seen = null)
    {
        try
        {
            while (true)
            {
                var (id, payload) = await wire.ReadMessageAsync(ct);
                seen?.Invoke(id, payload);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or SocketException) { }
    }

    /// <summary>Waits until the seeder has let every peer go (it forgets a closed one on its next loop turn).</summary>
    public async Task WaitUntilNoPeersAsync(CancellationToken ct)
    {
        while (await Engine.Loop.InvokeAsync(() => Seeding.ConnectedPeers.Count) > 0) await Task.Delay(5, ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _sockets) s.Dispose();
        await Engine.DisposeAsync();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }
}
