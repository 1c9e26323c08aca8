using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers.Fakes;

/// <summary>A datagram the fake UDP tracker received.</summary>
internal sealed record UdpPacket(byte[] Bytes, IPEndPoint From)
{
    public int Action => Bytes.Length >= 12 ? BinaryPrimitives.ReadInt32BigEndian(Bytes.AsSpan(8)) : -1;
    public uint TransactionId => BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(12));
    public long ConnectionId => BinaryPrimitives.ReadInt64BigEndian(Bytes);
    public bool IsConnect => Bytes.Length >= 16 && ConnectionId == 0x41727101980 && Action == 0;
    public bool IsAnnounce => Bytes.Length == 98 && Action == 1;
    public bool IsScrape => Bytes.Length >= 16 && Action == 2;

    // Announce fields (BEP 15 offsets).
    public InfoHash InfoHash => new(Bytes.AsSpan(16, 20));
    public byte[] PeerId => Bytes.AsSpan(36, 20).ToArray();
    public long Downloaded => BinaryPrimitives.ReadInt64BigEndian(Bytes.AsSpan(56));
    public long Left => BinaryPrimitives.ReadInt64BigEndian(Bytes.AsSpan(64));
    public long Uploaded => BinaryPrimitives.ReadInt64BigEndian(Bytes.AsSpan(72));
    public int Event => BinaryPrimitives.ReadInt32BigEndian(Bytes.AsSpan(80));
    public uint Key => BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(88));
    public int NumWant => BinaryPrimitives.ReadInt32BigEndian(Bytes.AsSpan(92));
    public int Port => BinaryPrimitives.ReadUInt16BigEndian(Bytes.AsSpan(96));
}

/// <summary>
/// A UDP tracker on loopback (IPv4 or IPv6, free port) that follows BEP 15 unless a test overrides
/// <see cref="Handler"/>: it hands out connection ids, checks them, and answers announces and scrapes.
/// </summary>
internal sealed class FakeUdpTracker : IDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<UdpPacket> _received = new();
    private readonly ConcurrentDictionary<long, bool> _connectionIds = new();

    public FakeUdpTracker(bool ipv6 = false)
    {
        var address = ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        Handler = Standard;
        _ = Task.Run(ReceiveLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    public string AnnounceUrl => EndPoint.AddressFamily == AddressFamily.InterNetworkV6
        ? $"udp://[::1]:{EndPoint.Port}/announce"
        : $"udp://127.0.0.1:{EndPoint.Port}/announce";

    /// <summary>Decides the answers to a packet (none = dropped).</summary>
    public Func<UdpPacket, IEnumerable<byte[]>> Handler { get; set; }

    public List<IPEndPoint> Peers { get; } = [];
    public int Interval { get; set; } = 1800;
    public int Seeders { get; set; } = 3;
    public int Leechers { get; set; } = 4;
    public int Completed { get; set; } = 5;

    /// <summary>Answer announces with this error instead.</summary>
    public string? AnnounceError { get; set; }

    public IReadOnlyList<UdpPacket> Received => [.. _received];

    public int Count(Func<UdpPacket, bool> which) => _received.Count(which);

    /// <summary>Connection ids handed out, in order.</summary>
    public List<long> IssuedConnectionIds { get; } = [];

    public IEnumerable<byte[]> Standard(UdpPacket p)
    {
        if (p.IsConnect)
        {
            long id = Random.Shared.NextInt64(1, long.MaxValue);
            _connectionIds[id] = true;
            lock (IssuedConnectionIds) IssuedConnectionIds.Add(id);
            yield return ConnectAnswer(p.TransactionId, id);
        }
        else if (!_connectionIds.ContainsKey(p.ConnectionId))
        {
            yield return ErrorAnswer(p.TransactionId, "Connection ID missmatch.");
        }
        else if (p.IsAnnounce)
        {
            yield return AnnounceError is { } error
                ? ErrorAnswer(p.TransactionId, error)
                : AnnounceAnswer(p.TransactionId, Interval, Leechers, Seeders, Peers, EndPoint.AddressFamily);
        }
        else if (p.IsScrape)
        {
            int n = (p.Bytes.Length - 16) / 20;
            var answer = new byte[8 + 12 * n];
            BinaryPrimitives.WriteInt32BigEndian(answer, 2);
            BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(4), p.TransactionId);
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(8 + 12 * i), Seeders);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(12 + 12 * i), Completed);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(16 + 12 * i), Leechers);
            }
            yield return answer;
        }
    }

    public static byte[] ConnectAnswer(uint tx, long connectionId)
    {
        var a = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(a, 0);
        BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(4), tx);
        BinaryPrimitives.WriteInt64BigEndian(a.AsSpan(8), connectionId);
        return a;
    }

    public static byte[] AnnounceAnswer(uint tx, int interval, int leechers, int seeders, IEnumerable<IPEndPoint> peers, AddressFamily family)
    {
        var compact = CompactPeers.Encode(peers, family);
        var a = new byte[20 + compact.Length];
        BinaryPrimitives.WriteInt32BigEndian(a, 1);
        BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(4), tx);
        BinaryPrimitives.WriteInt32BigEndian(a.AsSpan(8), interval);
        BinaryPrimitives.WriteInt32BigEndian(a.AsSpan(12), leechers);
        BinaryPrimitives.WriteInt32BigEndian(a.AsSpan(16), seeders);
        compact.CopyTo(a, 20);
        return a;
    }

    public static byte[] ErrorAnswer(uint tx, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var a = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt32BigEndian(a, 3);
        BinaryPrimitives.WriteUInt32BigEndian(a.AsSpan(4), tx);
        text.CopyTo(a, 8);
        return a;
    }

    public void Send(byte[] packet, IPEndPoint to) => _socket.SendTo(packet, to);

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var packet = new UdpPacket(buffer.AsSpan(0, r.ReceivedBytes).ToArray(), (IPEndPoint)r.RemoteEndPoint);
            _received.Enqueue(packet);
            try
            {
                foreach (var answer in Handler(packet)) _socket.SendTo(answer, packet.From);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}
