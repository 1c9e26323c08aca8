using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// Port mapping through the default gateway with PCP (RFC 6887), falling back to NAT-PMP (RFC 6886) when the gateway
/// answers PCP with NAT-PMP's version or not at all (as RFC 6887 §9 and libtorrent do). Once the gateway has shown it
/// speaks only NAT-PMP, PCP is not tried again until a request fails.
/// </summary>
public sealed class PmpPortMapping : IPortMappingProtocol
{
    private readonly Func<IPAddress?> _findGateway;
    private readonly GatewayExchange _exchange;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(MappingTransport, int), byte[]> _nonces = new();
    private volatile bool _natPmpOnly;

    /// <summary>A mapper for the gateway <paramref name="findGateway"/> returns (asked again at each request).</summary>
    public PmpPortMapping(Func<IPAddress?> findGateway, GatewayExchange exchange, ILogger logger)
    {
        _findGateway = findGateway;
        _exchange = exchange;
        _logger = logger;
    }

    /// <inheritdoc/>
    public string Name => "NAT-PMP/PCP";

    /// <inheritdoc/>
    public async Task<PortMappingLease> MapAsync(MappingTransport transport, int internalPort, int externalPort, TimeSpan lifetime,
        CancellationToken cancellationToken)
    {
        var gateway = _findGateway() ?? throw new PortMappingException("no default gateway (NAT-PMP/PCP)", noGateway: true);
        var local = LocalAddress(gateway);
        uint seconds = (uint)Math.Clamp(lifetime.TotalSeconds, 1, uint.MaxValue);
        if (!_natPmpOnly)
        {
            try
            {
                return await PcpAsync(gateway, local, transport, internalPort, externalPort, seconds, cancellationToken).ConfigureAwait(false);
            }
            catch (PcpVersionException)
            {
                _logger.LogDebug("{Gateway} does not speak PCP; using NAT-PMP", gateway);
                _natPmpOnly = true;
            }
            catch (TimeoutException e)
            {
                _logger.LogDebug("PCP: {Error}; trying NAT-PMP", e.Message);
            }
        }
        try
        {
            return await NatPmpAsync(gateway, local, transport, internalPort, externalPort, seconds, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            _natPmpOnly = false;
            throw new PortMappingException($"{e.Message} (NAT-PMP/PCP)", e, noGateway: true);
        }
    }

    /// <inheritdoc/>
    public async Task UnmapAsync(PortMappingLease lease, CancellationToken cancellationToken)
    {
        var gateway = _findGateway() ?? throw new PortMappingException("no default gateway (NAT-PMP/PCP)", noGateway: true);
        var local = LocalAddress(gateway);
        try
        {
            if (lease.Method == "PCP" && _nonces.TryGetValue((lease.Transport, lease.InternalPort), out var nonce))
            {
                var request = PcpCodec.MapRequest(nonce, lease.Transport, lease.InternalPort, 0, 0, local);
                await _exchange.ExchangeAsync(gateway, local, request, a => Take(PcpOurs(a.Span, nonce, lease.Transport, lease.InternalPort),
                    () => PcpCodec.ParseMap(a.Span, nonce, lease.Transport, lease.InternalPort)), cancellationToken).ConfigureAwait(false);
                _nonces.TryRemove((lease.Transport, lease.InternalPort), out _);
            }
            else
            {
                // RFC 6886 §3.4: lifetime 0 and suggested external port 0 remove the mapping.
                var request = NatPmpCodec.MapRequest(lease.Transport, lease.InternalPort, 0, 0);
                await _exchange.ExchangeAsync(gateway, local, request, a => Take(NatPmpOurs(a.Span, lease.Transport),
                    () => NatPmpCodec.ParseMap(a.Span, lease.Transport, lease.InternalPort)), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException e)
        {
            throw new PortMappingException($"{e.Message} ({lease.Method})", e, noGateway: true);
        }
    }

    private async Task<PortMappingLease> PcpAsync(IPAddress gateway, IPAddress local, MappingTransport transport, int internalPort,
        int externalPort, uint seconds, CancellationToken cancellationToken)
    {
        // The same nonce for a renewal as for the first request (RFC 6887 §11.2.1), a new one per mapping.
        var nonce = _nonces.GetOrAdd((transport, internalPort), _ => RandomNumberGenerator.GetBytes(12));
        var request = PcpCodec.MapRequest(nonce, transport, internalPort, externalPort, seconds, local);
        var answer = await _exchange.ExchangeAsync(gateway, local, request,
            a => Take(PcpOurs(a.Span, nonce, transport, internalPort), () => PcpCodec.ParseMap(a.Span, nonce, transport, internalPort)),
            cancellationToken).ConfigureAwait(false);
        if (answer.LifetimeSeconds == 0) throw new PortMappingException("the gateway granted a PCP mapping of no lifetime");
        return new PortMappingLease(transport, internalPort, answer.ExternalPort, answer.ExternalAddress,
            TimeSpan.FromSeconds(answer.LifetimeSeconds), "PCP");
    }

    private async Task<PortMappingLease> NatPmpAsync(IPAddress gateway, IPAddress local, MappingTransport transport, int internalPort,
        int externalPort, uint seconds, CancellationToken cancellationToken)
    {
        var (port, lifetime) = await _exchange.ExchangeAsync(gateway, local, NatPmpCodec.MapRequest(transport, internalPort, externalPort, seconds),
            a => Take(NatPmpOurs(a.Span, transport), () => NatPmpCodec.ParseMap(a.Span, transport, internalPort)), cancellationToken).ConfigureAwait(false);
        if (lifetime == 0) throw new PortMappingException("the gateway granted a NAT-PMP mapping of no lifetime");
        IPAddress? external = null;
        try
        {
            external = await _exchange.ExchangeAsync(gateway, local, NatPmpCodec.ExternalAddressRequest(),
                a => Take(NatPmpOurs(a.Span, null), () => NatPmpCodec.ParseExternalAddress(a.Span)), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or PortMappingException)
        {
            _logger.LogDebug("NAT-PMP external address: {Error}", e.Message);
        }
        return new PortMappingLease(transport, internalPort, port, external, TimeSpan.FromSeconds(lifetime), "NAT-PMP");
    }

    /// <summary>Parses a datagram only when it is an answer to our request; others are ignored.</summary>
    private static (bool, T) Take<T>(bool ours, Func<T> parse) => ours ? (true, parse()) : (false, default!);

    /// <summary>Whether a datagram is the answer to a PCP MAP of ours (else it is ignored); a NAT-PMP answer is, for the fallback.</summary>
    private static bool PcpOurs(ReadOnlySpan<byte> a, ReadOnlySpan<byte> nonce, MappingTransport transport, int internalPort) =>
        a.Length >= 4 && (a[0] == 0 || (a[0] == PcpCodec.Version && a[1] == (0x80 | PcpCodec.MapOpcode) &&
            (a.Length < PcpCodec.MapRequestSize || a.Slice(24, 12).SequenceEqual(nonce))));

    /// <summary>Whether a datagram is the NAT-PMP answer to our request (map of <paramref name="transport"/>, or the address when null).</summary>
    private static bool NatPmpOurs(ReadOnlySpan<byte> a, MappingTransport? transport) =>
        a.Length >= 4 && a[0] == 0 && a[1] == 128 + (transport switch { null => 0, MappingTransport.Udp => 1, _ => 2 });

    private static IPAddress LocalAddress(IPAddress gateway)
    {
        try
        {
            return DefaultGateway.LocalAddressTowards(gateway);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new PortMappingException($"no route to the gateway {gateway}: {e.Message}", e, noGateway: true);
        }
    }
}
