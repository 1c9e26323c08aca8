using System.Net;

namespace RTorrent.Engine.PortMapping;

/// <summary>The transport a mapping forwards.</summary>
public enum MappingTransport
{
    /// <summary>TCP (peer connections).</summary>
    Tcp,
    /// <summary>UDP (DHT, uTP, UDP trackers' answers).</summary>
    Udp,
}

/// <summary>A mapping a router granted.</summary>
/// <param name="Transport">TCP or UDP.</param>
/// <param name="InternalPort">Our port.</param>
/// <param name="ExternalPort">The router's port that forwards to it (it may differ from the one asked for).</param>
/// <param name="ExternalAddress">The router's outside address, when it said.</param>
/// <param name="Lifetime">How long the router keeps it; zero for until removed (a permanent UPnP lease).</param>
/// <param name="Method">Who granted it: "UPnP", "NAT-PMP" or "PCP".</param>
public sealed record PortMappingLease(MappingTransport Transport, int InternalPort, int ExternalPort, IPAddress? ExternalAddress,
    TimeSpan Lifetime, string Method);

/// <summary>A router refused, did not answer, or answered something that cannot be used; the message says which.</summary>
public sealed class PortMappingException(string message, Exception? inner = null, bool noGateway = false) : Exception(message, inner)
{
    /// <summary>No router was found or none answered: asking again for the other transport now would only wait again.</summary>
    public bool NoGateway { get; } = noGateway;
}

/// <summary>
/// One way of asking a router to forward a port (UPnP IGD, or NAT-PMP/PCP to the default gateway). Implementations keep
/// what they discovered between calls and discover again after a failure.
/// </summary>
public interface IPortMappingProtocol
{
    /// <summary>Its name in the status ("UPnP", "NAT-PMP/PCP").</summary>
    string Name { get; }

    /// <summary>Asks for (or renews) a mapping of <paramref name="internalPort"/> to <paramref name="externalPort"/>.</summary>
    /// <exception cref="PortMappingException">Refused, no answer, or an answer that cannot be used.</exception>
    Task<PortMappingLease> MapAsync(MappingTransport transport, int internalPort, int externalPort, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Removes a mapping it granted.</summary>
    /// <exception cref="PortMappingException">The router refused or did not answer.</exception>
    Task UnmapAsync(PortMappingLease lease, CancellationToken cancellationToken);
}

/// <summary>Where port mapping stands, for the status bar and the RPC.</summary>
public enum PortMappingState
{
    /// <summary>Switched off (settings.json <c>portForwardingEnabled</c> false).</summary>
    Off,
    /// <summary>Asking the router(s) for the first time.</summary>
    Mapping,
    /// <summary>The listen port is forwarded (<see cref="PortMappingStatus.ExternalAddress"/>, the ports).</summary>
    Mapped,
    /// <summary>No router forwarded it; <see cref="PortMappingStatus.Error"/> says why.</summary>
    Failed,
}

/// <summary>The port mapping's state as the interface and the RPC show it.</summary>
public sealed record PortMappingStatus
{
    /// <summary>Off, mapping, mapped or failed.</summary>
    public PortMappingState State { get; init; }
    /// <summary>"UPnP", "NAT-PMP" or "PCP" when mapped.</summary>
    public string? Method { get; init; }
    /// <summary>The router's outside address, when known.</summary>
    public string? ExternalAddress { get; init; }
    /// <summary>The outside port forwarding TCP to the listen port, when mapped.</summary>
    public int? ExternalTcpPort { get; init; }
    /// <summary>The outside port forwarding UDP to the listen port, when mapped.</summary>
    public int? ExternalUdpPort { get; init; }
    /// <summary>Why mapping failed (each method's reason), or why only part of it worked.</summary>
    public string? Error { get; init; }

    /// <summary>Port mapping switched off.</summary>
    public static PortMappingStatus Off { get; } = new() { State = PortMappingState.Off };
}
