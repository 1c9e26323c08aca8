using System.Net;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Proxies;

/// <summary>
/// The DHT's datagrams through a SOCKS5 proxy. The DHT sees an IPv4 transport on the listen port; nodes cannot reach
/// us unasked through a proxy, so we are a client-only node in effect (we still answer what arrives through the relay).
/// </summary>
internal sealed class ProxiedDhtTransport(RelayedDatagrams datagrams, int port) : IDhtTransport
{
    public IPEndPoint LocalEndPoint { get; } = new(IPAddress.Any, port);

    public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to) => datagrams.TrySend(datagram, to);

    public async ValueTask<DhtDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (length, from) = await datagrams.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (from is IPEndPoint ip) return new DhtDatagram(length, AddressClass.Normalize(ip));
        }
    }

    public void Dispose() => datagrams.Dispose();
}
