namespace RTorrent.Engine.Peers.Utp;

/// <summary>The limits and timings of uTP; defaults follow BEP 29 and libtorrent. See docs/UTP.md.</summary>
internal sealed record UtpOptions
{
    /// <summary>
    /// The largest UDP payload we send (header included): 1400 bytes fit every path with an MTU of 1500 under IPv4 or
    /// IPv6 and most tunnels (PPPoE, a VPN's few dozen bytes), so no path MTU discovery is run (docs/UTP.md).
    /// </summary>
    public int PacketSize { get; init; } = 1400;

    /// <summary>Bytes received and not yet read, in order or waiting for a gap: what our window offers.</summary>
    public int ReceiveBuffer { get; init; } = 1024 * 1024;

    /// <summary>Bytes written by the connection and not yet packetised.</summary>
    public int SendBuffer { get; init; } = 256 * 1024;

    /// <summary>LEDBAT's target queueing delay (BEP 29: 100 ms).</summary>
    public TimeSpan TargetDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The most the window grows per round trip at zero delay (BEP 29's MAX_CWND_INCREASE_BYTES_PER_RTT).</summary>
    public int MaxWindowIncreasePerRtt { get; init; } = 3000;

    /// <summary>The retransmission timeout's floor (BEP 29: 500 ms) and its value before the first round trip is measured.</summary>
    public TimeSpan MinTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan InitialTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a SYN is sent before the connection attempt fails (then the dialler falls back to TCP).</summary>
    public int SynTransmissions { get; init; } = 2;

    /// <summary>How often a data packet is sent before the connection is declared dead (libtorrent: 1 + 3 resends).</summary>
    public int DataTransmissions { get; init; } = 4;

    /// <summary>How often a FIN is sent before a closing connection is dropped.</summary>
    public int FinTransmissions { get; init; } = 3;

    /// <summary>uTP connections at once (incoming and outgoing); SYNs beyond are ignored.</summary>
    public int MaxConnections { get; init; } = 2000;

    /// <summary>Connections one address may open towards us before its further SYNs are ignored.</summary>
    public int MaxIncomingPerAddress { get; init; } = 16;

    /// <summary>RESET answers to packets for unknown connections, per second (we must not be a reflector).</summary>
    public int ResetsPerSecond { get; init; } = 50;

    /// <summary>How long a peer that did not answer a uTP SYN is dialled over TCP directly.</summary>
    public TimeSpan NoUtpMemory { get; init; } = TimeSpan.FromMinutes(30);
}
