using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client.Extensions;

/// <summary>What the metadata exchange reads and does on its torrent (on the loop).</summary>
internal interface IMetadataHost
{
    InfoHash InfoHash { get; }
    MagnetLink? Magnet { get; }

    /// <summary>Null while the metadata is being fetched.</summary>
    TorrentMetainfo? Metainfo { get; }

    ExtensionProtocol Extensions { get; }
    IReadOnlyList<Peer> ConnectedPeers { get; }
    DateTimeOffset Now { get; }

    event Action<Peer>? PeerDisconnected;

    /// <summary>Once a second while the torrent has peers.</summary>
    event Action<DateTimeOffset>? Ticked;

    void Log(PluginLogLevel level, string message);
    void Disconnect(Peer peer, string reason);

    /// <summary>The info dictionary arrived and matches the info-hash.</summary>
    void MetadataFetched(byte[] infoBytes);
}

/// <summary>
/// BEP 9 (ut_metadata): serves our info dictionary to peers in 16 KiB pieces, and for a magnet link fetches it from
/// several peers at once, checks it against the info-hash, and hands it to the torrent. A peer whose metadata does not
/// match, or that sends pieces of the wrong size or out of range, is dropped.
/// </summary>
internal sealed class MetadataExchange
{
    public const string Name = "ut_metadata";
    public const int LocalId = 1;
    public const int PieceSize = 16 * 1024;
    private const int MaxOutstandingPerPeer = 4;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly IMetadataHost _host;
    private readonly MetadataRequestLimit _requestLimit = new();
    // Only a magnet fetching its metadata uses these: made at first use.
    private Dictionary<Peer, int>? _outstandingByPeer;
    private Dictionary<Peer, DateTimeOffset>? _rejectedByPeer;
    private long _size;
    private byte[]? _buffer;
    private bool[] _have = [];
    private Peer?[] _requestedFrom = [];
    private DateTimeOffset[] _requestedAt = [];
    private Peer?[] _from = [];
    private bool _done;

    public MetadataExchange(IMetadataHost torrent)
    {
        _host = torrent;
        torrent.Extensions.Register(Name, LocalId, OnMessage);
        // A torrent whose metadata is known only serves it: no handlers (ten thousand seeds held three delegates each).
        if (!Fetching) return;
        torrent.Extensions.HandshakeReceived += OnHandshake;
        torrent.PeerDisconnected += OnDisconnected;
        torrent.Ticked += Tick;
    }

    private Dictionary<Peer, int> Outstanding => _outstandingByPeer ??= [];

    private Dictionary<Peer, DateTimeOffset> RejectedUntil => _rejectedByPeer ??= [];

    /// <summary>What the UI shows while fetching.</summary>
    public string Status => _done || _host.Metainfo is not null ? "complete"
        : _size == 0 ? "waiting for a peer that has the metadata"
        : $"{_have.Count(h => h)} of {_have.Length} metadata pieces";

    private bool Fetching => !_done && _host.Metainfo is null;

    /// <summary>0..1 of the metadata pieces received; 1 once the metadata is known.</summary>
    public double Progress
    {
        get
        {
            if (!Fetching) return 1;
            if (_have.Length == 0) return 0;
            int have = 0;
            foreach (bool h in _have) if (h) have++;
            return (double)have / _have.Length;
        }
    }

    private void OnHandshake(Peer peer)
    {
        if (!Fetching || !peer.TheirExtensions.ContainsKey(Name) || peer.MetadataSize is not { } size) return;
        if (size <= 0 || size > ExtensionHandshake.MaxMetadataSize)
        {
            _host.Log(PluginLogLevel.Warning, $"{peer.EndPoint} claims metadata of {size} bytes; ignored");
            return;
        }
        if (_size == 0) Begin(size);
        else if (size != _size) return; // a peer that disagrees on the size is not asked
        RequestFrom(peer, _host.Now);
    }

    private void Begin(long size)
    {
        _size = size;
        int pieces = (int)((size + PieceSize - 1) / PieceSize);
        _buffer = new byte[size];
        _have = new bool[pieces];
        _requestedFrom = new Peer?[pieces];
        _requestedAt = new DateTimeOffset[pieces];
        _from = new Peer?[pieces];
    }

    private void Tick(DateTimeOffset now)
    {
        if (!Fetching || _size == 0) return;
        for (int i = 0; i < _have.Length; i++)
        {
            if (!_have[i] && _requestedFrom[i] is { } p && now - _requestedAt[i] > RequestTimeout)
            {
                _requestedFrom[i] = null;
                if (Outstanding.TryGetValue(p, out int n)) Outstanding[p] = Math.Max(0, n - 1);
            }
        }
        foreach (var peer in _host.ConnectedPeers.ToArray())
            if (peer.TheirExtensions.ContainsKey(Name) && peer.MetadataSize == _size) RequestFrom(peer, now);
    }

    private void RequestFrom(Peer peer, DateTimeOffset now)
    {
        if (RejectedUntil.TryGetValue(peer, out var until) && until > now) return;
        int outstanding = Outstanding.GetValueOrDefault(peer);
        // Missing pieces nobody is asked for first; then, with several peers, pieces still unanswered.
        for (int i = 0; i < _have.Length && outstanding < MaxOutstandingPerPeer; i++)
        {
            if (_have[i] || _requestedFrom[i] is not null) continue;
            _requestedFrom[i] = peer;
            _requestedAt[i] = now;
            outstanding++;
            Send(peer, new BDictionary { ["msg_type"] = new BInteger(0), ["piece"] = new BInteger(i) });
        }
        Outstanding[peer] = outstanding;
    }

    private void Send(Peer peer, BDictionary message, ReadOnlySpan<byte> trailer = default)
    {
        if (!peer.TheirExtensions.TryGetValue(Name, out int theirId)) return;
        var head = BencodeWriter.Encode(message);
        var payload = new byte[head.Length + trailer.Length];
        head.CopyTo(payload, 0);
        trailer.CopyTo(payload.AsSpan(head.Length));
        ExtensionProtocol.Send(peer, theirId, payload);
    }

    private void OnMessage(Peer peer, ReadOnlyMemory<byte> payload)
    {
        BDictionary header;
        int headerLength;
        try
        {
            header = BencodeReader.Decode(payload, out headerLength, new BencodeReaderOptions { Strict = false, MaxDepth = 4, MaxItems = 64 }) as BDictionary
                ?? throw new PeerProtocolException("ut_metadata message is not a dictionary");
        }
        catch (BencodeException e)
        {
            throw new PeerProtocolException("malformed ut_metadata message: " + e.Message);
        }
        long type = header.GetInteger("msg_type") ?? -1;
        long piece = header.GetInteger("piece") ?? -1;
        switch (type)
        {
            case 0:
                Serve(peer, piece);
                break;
            case 1:
                OnData(peer, piece, header.GetInteger("total_size"), payload[headerLength..]);
                break;
            case 2:
                OnReject(peer, piece);
                break;
            // Unknown message types are ignored (BEP 9).
        }
    }

    private void Serve(Peer peer, long piece)
    {
        if (!_requestLimit.TryAdmit(peer, peer.Connection.QueuedBytes))
            throw new PeerProtocolException($"more than {MetadataRequestLimit.MaxPending} ut_metadata requests unanswered");
        var info = _host.Metainfo?.InfoBytes ?? default;
        int count = (int)((info.Length + PieceSize - 1) / PieceSize);
        if (info.IsEmpty || piece < 0 || piece >= count)
        {
            Send(peer, new BDictionary { ["msg_type"] = new BInteger(2), ["piece"] = new BInteger(piece) });
            return;
        }
        int start = (int)piece * PieceSize;
        var slice = info.Span.Slice(start, Math.Min(PieceSize, info.Length - start));
        Send(peer, new BDictionary
        {
            ["msg_type"] = new BInteger(1),
            ["piece"] = new BInteger(piece),
            ["total_size"] = new BInteger(info.Length),
        }, slice);
    }

    private void OnReject(Peer peer, long piece)
    {
        if (!Fetching || piece < 0 || piece >= _have.Length) return;
        if (ReferenceEquals(_requestedFrom[piece], peer)) _requestedFrom[piece] = null;
        Outstanding[peer] = Math.Max(0, Outstanding.GetValueOrDefault(peer) - 1);
        RejectedUntil[peer] = _host.Now + TimeSpan.FromSeconds(30);
    }

    private void OnData(Peer peer, long piece, long? totalSize, ReadOnlyMemory<byte> data)
    {
        if (!Fetching || _size == 0) return; // unsolicited or late: ignored
        if (piece < 0 || piece >= _have.Length)
            throw new PeerProtocolException($"ut_metadata piece {piece} out of range");
        if (totalSize is { } t && t != _size)
            throw new PeerProtocolException($"ut_metadata total_size {t} differs from {_size}");
        int expected = (int)Math.Min(PieceSize, _size - piece * PieceSize);
        if (data.Length != expected)
            throw new PeerProtocolException($"ut_metadata piece {piece} of {data.Length} bytes, expected {expected}");
        if (ReferenceEquals(_requestedFrom[piece], peer))
            Outstanding[peer] = Math.Max(0, Outstanding.GetValueOrDefault(peer) - 1);
        if (_have[piece]) return;
        data.Span.CopyTo(_buffer.AsSpan((int)piece * PieceSize));
        _have[piece] = true;
        _from[piece] = peer;
        if (_have.All(h => h)) Complete();
        else RequestFrom(peer, _host.Now);
    }

    private void Complete()
    {
        var bytes = _buffer!;
        bool ok = _host.Magnet?.InfoHashV1 is { } v1 ? v1.Matches(SHA1.HashData(bytes))
            : _host.Magnet?.InfoHashV2 is { } v2 ? SHA256.HashData(bytes).AsSpan().SequenceEqual(v2)
            : _host.InfoHash.Matches(SHA1.HashData(bytes));
        if (!ok)
        {
            var culprits = _from.Where(p => p is not null).Distinct().ToArray();
            _host.Log(PluginLogLevel.Warning, $"metadata from {string.Join(", ", culprits.Select(c => c!.EndPoint))} does not match the info-hash; fetching again");
            foreach (var c in culprits) _host.Disconnect(c!, "sent metadata that does not match the info-hash");
            Begin(_size);
            _size = 0; // the size itself may be the lie: take it from the next peer
            Outstanding.Clear();
            return;
        }
        _done = true;
        _host.MetadataFetched(bytes);
    }

    private void OnDisconnected(Peer peer)
    {
        _outstandingByPeer?.Remove(peer);
        _rejectedByPeer?.Remove(peer);
        for (int i = 0; i < _requestedFrom.Length; i++)
            if (ReferenceEquals(_requestedFrom[i], peer)) _requestedFrom[i] = null;
        for (int i = 0; i < _from.Length; i++)
            if (ReferenceEquals(_from[i], peer)) _from[i] = null;
    }
}
