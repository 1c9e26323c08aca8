using System.Net;
using System.Net.Sockets;
using RTorrent.Engine.Peers.Utp;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Peers.Utp;

/// <summary>
/// Datagrams between uTP sockets in memory, on a manual clock: each waits <see cref="Latency"/> (which may change
/// while they fly), and <see cref="Drop"/> may lose any. Single-threaded: the test pumps it.
/// </summary>
internal sealed class FakeUdpNetwork
{
    private readonly List<(long Due, byte[] Data, SocketAddress To, SocketAddress From)> _inFlight = [];
    private readonly Dictionary<SocketAddress, UtpSocket> _sockets = [];

    public ManualTimeProvider Clock { get; } = new();

    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Returns true to lose a datagram (its bytes, the sender's address).</summary>
    public Func<byte[], SocketAddress, bool>? Drop { get; set; }

    /// <summary>Every datagram sent, as (from, bytes): what tests inspect.</summary>
    public List<(SocketAddress From, byte[] Data)> Sent { get; } = [];

    public int Delivered { get; private set; }

    public (UtpSocket Socket, IPEndPoint EndPoint) Add(int port, UtpOptions? options = null)
    {
        var ep = new IPEndPoint(IPAddress.Loopback, port);
        var address = ep.Serialize();
        var socket = new UtpSocket(new Sender(this, address), Clock, options: options, runTimer: false);
        _sockets[address] = socket;
        return (socket, ep);
    }

    private long Now => Clock.GetUtcNow().UtcTicks;

    /// <summary>Delivers every datagram that is due, in order sent, then lets each socket send its acks.</summary>
    public int DeliverDue()
    {
        int n = 0;
        while (true)
        {
            int i = _inFlight.FindIndex(d => d.Due <= Now);
            if (i < 0) break;
            var d = _inFlight[i];
            _inFlight.RemoveAt(i);
            if (_sockets.TryGetValue(d.To, out var socket))
            {
                socket.Receive(d.Data, d.From);
                n++;
            }
        }
        Delivered += n;
        foreach (var s in _sockets.Values) s.FlushAcks();
        return n;
    }

    /// <summary>One millisecond: time passes, due datagrams arrive, timers run.</summary>
    public void Step(TimeSpan? by = null)
    {
        Clock.Advance(by ?? TimeSpan.FromMilliseconds(1));
        DeliverDue();
        foreach (var s in _sockets.Values) s.Tick();
        DeliverDue();
    }

    public int Pending => _inFlight.Count;

    /// <summary>Injects a raw datagram (hostile tests).</summary>
    public void Inject(byte[] data, IPEndPoint from, IPEndPoint to) => _sockets[to.Serialize()].Receive(data, from.Serialize());

    private sealed class Sender(FakeUdpNetwork net, SocketAddress self) : IDatagramSender
    {
        public void SendTo(ReadOnlySpan<byte> datagram, SocketAddress to)
        {
            var data = datagram.ToArray();
            net.Sent.Add((self, data));
            if (net.Drop?.Invoke(data, self) == true) return;
            net._inFlight.Add((net.Now + net.Latency.Ticks, data, to, self));
        }
    }
}
