using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client.Extensions;

/// <summary>
/// Peer exchange (BEP 11, ut_pex) as a peer source: tells each connected peer, at most once a minute, which peers we
/// joined and left since the last message, and adds the peers others tell us about. Never used for private
/// torrents (the engine does not create it for them).
/// </summary>
internal sealed class PexPeerSource : IPeerSource, ITorrentAttachedSource
{
    public const string SourceName = "pex";
    public const string ExtensionName = "ut_pex";
    public const int LocalId = 2;

    /// <summary>BEP 11: at most 50 added and 50 dropped peers per message.</summary>
    public const int MaxPerMessage = 50;

    /// <summary>Issue 14: what we send is what we take; 'added' past 50 is ignored, as libtorrent does.</summary>
    public const int MaxAcceptedPerMessage = MaxPerMessage;

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);

    private Dictionary<Peer, PeerState>? _state; // made when the first peer that speaks PEX comes
    private Torrent? _torrent;
    private bool _running;
    private int _reported;
    private DateTimeOffset? _lastReceived;

    private sealed class PeerState
    {
        public HashSet<IPEndPoint> Sent = [];
        public DateTimeOffset NextSend;
        public DateTimeOffset LastReceived = DateTimeOffset.MinValue;
        public readonly PexAddressBudget Learned = new();
    }

    public void Attach(Torrent torrent)
    {
        _torrent = torrent;
        torrent.Extensions.Register(ExtensionName, LocalId, OnMessage);
        torrent.Extensions.HandshakeReceived += p =>
        {
            if (!p.TheirExtensions.ContainsKey(ExtensionName)) return;
            // Kept across repeated handshakes: a second handshake must not reset what the peer may still add.
            var state = _state ??= [];
            if (!state.TryGetValue(p, out var st)) state[p] = st = new PeerState { NextSend = DateTimeOffset.MaxValue };
            if (st.NextSend == DateTimeOffset.MaxValue) st.NextSend = torrent.Now + TimeSpan.FromSeconds(5);
        };
        torrent.PeerDisconnected += p => _state?.Remove(p);
        torrent.Ticked += Tick;
    }

    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _running = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask StopAsync(CancellationToken cancellationToken)
    {
        _running = false;
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<PeerSourceStatus> GetStatus() =>
    [
        new PeerSourceStatus
        {
            Source = SourceName,
            Endpoint = "peer exchange",
            State = _running ? "working" : "stopped",
            PeersReported = _reported,
            LastSuccess = _lastReceived,
        },
    ];

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Endpoints other peers can connect to: outgoing connections, and incoming ones that told us their port.</summary>
    private static IPEndPoint? Connectable(Peer p) =>
        p.Connection.IsOutgoing ? p.EndPoint
        : p.ListenPort is { } port ? new IPEndPoint(p.EndPoint.Address, port)
        : null;

    private void Tick(DateTimeOffset now)
    {
        if (!_running || _torrent is null || _state is not { Count: > 0 } state) return;
        var current = new Dictionary<IPEndPoint, Peer>();
        foreach (var p in _torrent.ConnectedPeers)
            if (Connectable(p) is { } ep) current.TryAdd(ep, p);
        foreach (var (peer, st) in state)
        {
            if (now < st.NextSend || peer.Connection.IsClosed) continue;
            st.NextSend = now + Interval;
            var self = Connectable(peer);
            var added = current.Keys.Where(ep => !st.Sent.Contains(ep) && !ep.Equals(self)).Take(MaxPerMessage).ToList();
            var dropped = st.Sent.Where(ep => !current.ContainsKey(ep)).Take(MaxPerMessage).ToList();
            if (added.Count == 0 && dropped.Count == 0) continue;
            foreach (var ep in added) st.Sent.Add(ep);
            foreach (var ep in dropped) st.Sent.Remove(ep);
            var msg = Encode(added, added.Select(ep => Flags(current[ep])).ToList(), dropped);
            ExtensionProtocol.Send(peer, peer.TheirExtensions[ExtensionName], msg);
        }
    }

    // BEP 11's 0x02 is "seed or upload-only": a partial seed (BEP 21) is as useless to other partial seeds as a seed.
    private static byte Flags(Peer p) => (byte)((p.IsSeed || p.UploadOnly ? 0x02 : 0) | (p.Connection.IsOutgoing ? 0x10 : 0));

    /// <summary>Builds a ut_pex message.</summary>
    internal static byte[] Encode(IReadOnlyList<IPEndPoint> added, IReadOnlyList<byte> addedFlags, IReadOnlyList<IPEndPoint> dropped)
    {
        var d = new BDictionary
        {
            ["added"] = new BString(Compact(added, AddressFamily.InterNetwork)),
            ["added.f"] = new BString(added.Select((ep, i) => (ep, i)).Where(x => x.ep.AddressFamily == AddressFamily.InterNetwork).Select(x => addedFlags[x.i]).ToArray()),
            ["added6"] = new BString(Compact(added, AddressFamily.InterNetworkV6)),
            ["added6.f"] = new BString(added.Select((ep, i) => (ep, i)).Where(x => x.ep.AddressFamily == AddressFamily.InterNetworkV6).Select(x => addedFlags[x.i]).ToArray()),
            ["dropped"] = new BString(Compact(dropped, AddressFamily.InterNetwork)),
            ["dropped6"] = new BString(Compact(dropped, AddressFamily.InterNetworkV6)),
        };
        return BencodeWriter.Encode(d);
    }

    private static byte[] Compact(IEnumerable<IPEndPoint> eps, AddressFamily family)
    {
        int size = family == AddressFamily.InterNetwork ? 6 : 18;
        var list = eps.Where(e => e.AddressFamily == family).ToList();
        var bytes = new byte[list.Count * size];
        for (int i = 0; i < list.Count; i++)
        {
            list[i].Address.TryWriteBytes(bytes.AsSpan(i * size), out _);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i * size + size - 2), (ushort)list[i].Port);
        }
        return bytes;
    }

    /// <summary>Parses the added peers of a ut_pex message; throws <see cref="PeerProtocolException"/> on garbage.</summary>
    internal static List<IPEndPoint> DecodeAdded(ReadOnlyMemory<byte> payload)
    {
        BDictionary d;
        try
        {
            d = BencodeReader.DecodeDictionary(payload, new BencodeReaderOptions { Strict = false, MaxDepth = 4, MaxItems = 64 });
        }
        catch (BencodeException e)
        {
            throw new PeerProtocolException("malformed ut_pex message: " + e.Message);
        }
        var result = new List<IPEndPoint>();
        Parse(d.Get<BString>("added"), 6, result);
        Parse(d.Get<BString>("added6"), 18, result);
        return result;
    }

    private static void Parse(BString? compact, int size, List<IPEndPoint> into)
    {
        if (compact is null) return;
        var span = compact.Bytes.Span;
        if (span.Length % size != 0) throw new PeerProtocolException($"ut_pex list of {span.Length} bytes is not a multiple of {size}");
        for (int i = 0; i + size <= span.Length && into.Count < MaxAcceptedPerMessage; i += size)
        {
            var addr = new IPAddress(span.Slice(i, size - 2));
            int port = BinaryPrimitives.ReadUInt16BigEndian(span.Slice(i + size - 2, 2));
            if (port == 0) continue;
            into.Add(new IPEndPoint(addr, port));
        }
    }

    private void OnMessage(Peer peer, ReadOnlyMemory<byte> payload)
    {
        if (_torrent is null || !_running) return;
        var now = _torrent.Now;
        // A peer that sends PEX without announcing it gets a state too, so the limits below hold for it as well.
        var state = _state ??= [];
        if (!state.TryGetValue(peer, out var st))
            state[peer] = st = new PeerState { NextSend = DateTimeOffset.MaxValue };
        // BEP 11 allows one message a minute; anything much faster is a flood and is ignored.
        if (now - st.LastReceived < TimeSpan.FromSeconds(20)) return;
        st.LastReceived = now;
        var added = st.Learned.Admit(DecodeAdded(payload));
        if (added.Count == 0) return;
        _reported += added.Count;
        _lastReceived = now;
        _torrent.AddPeersOnLoop(added, SourceName);
    }
}

/// <summary>Registers peer exchange as the "pex" peer source.</summary>
public sealed class PexPeerSourceFactory : IPeerSourceFactory
{
    /// <inheritdoc/>
    public string Name => PexPeerSource.SourceName;

    /// <inheritdoc/>
    public string Version => "1.0";

    /// <inheritdoc/>
    public string Description => "Peer exchange (BEP 11): peers learn of each other from connected peers.";

    /// <inheritdoc/>
    public bool AllowedForPrivateTorrents => false;

    /// <inheritdoc/>
    public IPeerSource Create(PeerSourceContext context) => new PexPeerSource();
}
