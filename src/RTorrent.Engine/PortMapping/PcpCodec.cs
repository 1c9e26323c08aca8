using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// PCP's MAP request and answer (RFC 6887, version 2) for one port and transport. The nonce ties a renewal or a removal
/// to the mapping it made; answers with another nonce, port, transport or opcode are not ours.
/// </summary>
public static class PcpCodec
{
    /// <summary>PCP's version.</summary>
    public const int Version = 2;

    /// <summary>The MAP opcode.</summary>
    public const int MapOpcode = 1;

    /// <summary>A MAP request is 60 bytes (24 of header, 36 of MAP).</summary>
    public const int MapRequestSize = 60;

    /// <summary>The largest PCP message (RFC 6887 §7): longer datagrams are not PCP.</summary>
    public const int MaxMessageSize = 1100;

    /// <summary>A MAP request (lifetime 0 removes the mapping with that nonce).</summary>
    /// <param name="client">Our address as the gateway sees it (the source address of the datagram).</param>
    public static byte[] MapRequest(ReadOnlySpan<byte> nonce, MappingTransport transport, int internalPort, int suggestedExternalPort,
        uint lifetimeSeconds, IPAddress client, IPAddress? suggestedExternal = null)
    {
        if (nonce.Length != 12) throw new ArgumentException("a PCP nonce is 12 bytes", nameof(nonce));
        var b = new byte[MapRequestSize];
        b[0] = Version;
        b[1] = MapOpcode; // R bit 0: a request
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), lifetimeSeconds);
        WriteAddress(b.AsSpan(8, 16), client);
        nonce.CopyTo(b.AsSpan(24));
        b[36] = ProtocolNumber(transport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(40), checked((ushort)internalPort));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(42), checked((ushort)suggestedExternalPort));
        // No suggestion: the IPv4-mapped 0.0.0.0 asks for any IPv4 address (RFC 6887 §11.1).
        WriteAddress(b.AsSpan(44, 16), suggestedExternal ?? IPAddress.Any);
        return b;
    }

    private static byte ProtocolNumber(MappingTransport transport) => transport == MappingTransport.Udp ? (byte)17 : (byte)6;

    /// <summary>Writes an address in PCP's 16 bytes (IPv4 as IPv4-mapped IPv6).</summary>
    public static void WriteAddress(Span<byte> into, IPAddress address)
    {
        var v6 = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        if (!v6.TryWriteBytes(into, out int written) || written != 16) throw new ArgumentException("cannot write the address", nameof(address));
    }

    /// <summary>Reads PCP's 16-byte address (an IPv4-mapped one as IPv4).</summary>
    public static IPAddress ReadAddress(ReadOnlySpan<byte> from)
    {
        var a = new IPAddress(from[..16]);
        return a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
    }

    /// <summary>The answer to a MAP request.</summary>
    public readonly record struct MapAnswer(int ExternalPort, IPAddress ExternalAddress, uint LifetimeSeconds, uint Epoch);

    /// <summary>Parses the answer to <see cref="MapRequest"/> with <paramref name="nonce"/>.</summary>
    /// <exception cref="PcpVersionException">The gateway answered with another version (NAT-PMP's 0): fall back.</exception>
    /// <exception cref="PortMappingException">Not the answer to that request, or a refusal with its result code's meaning.</exception>
    public static MapAnswer ParseMap(ReadOnlySpan<byte> answer, ReadOnlySpan<byte> nonce, MappingTransport transport, int internalPort)
    {
        if (answer.Length > MaxMessageSize) throw new PortMappingException($"PCP answer of {answer.Length} bytes is longer than {MaxMessageSize}");
        if (answer.Length < 4) throw new PortMappingException($"PCP answer of {answer.Length} bytes is too short");
        // A NAT-PMP gateway answers a version it does not speak with its own version 0 and result 1 (RFC 6887 §9).
        if (answer[0] != Version) throw new PcpVersionException(answer[0]);
        if (answer[1] != (0x80 | MapOpcode)) throw new PortMappingException($"PCP answer with opcode {answer[1]:x2}, not a MAP response");
        int result = answer[3];
        if (result == NatPmpCodec.UnsupportedVersion) throw new PcpVersionException(Version);
        if (answer.Length < MapRequestSize) throw new PortMappingException($"PCP answer of {answer.Length} bytes, shorter than a MAP response");
        if (!answer.Slice(24, 12).SequenceEqual(nonce)) throw new PortMappingException("PCP answer with another nonce");
        if (answer[36] != ProtocolNumber(transport) || BinaryPrimitives.ReadUInt16BigEndian(answer[40..]) != internalPort)
            throw new PortMappingException("PCP answer for another port or protocol");
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(answer[4..]);
        if (result != 0) throw new PortMappingException($"the gateway refused (PCP result {result}: {ResultText(result)})");
        return new MapAnswer(BinaryPrimitives.ReadUInt16BigEndian(answer[42..]), ReadAddress(answer.Slice(44, 16)), lifetime,
            BinaryPrimitives.ReadUInt32BigEndian(answer[8..]));
    }

    /// <summary>RFC 6887's result codes in words.</summary>
    public static string ResultText(int code) => code switch
    {
        0 => "success",
        1 => "unsupported version",
        2 => "not authorized",
        3 => "malformed request",
        4 => "unsupported opcode",
        5 => "unsupported option",
        6 => "malformed option",
        7 => "network failure",
        8 => "no resources",
        9 => "unsupported protocol",
        10 => "user exceeded quota",
        11 => "cannot provide the external port or address",
        12 => "address mismatch (a NAT between us and the gateway)",
        13 => "excessive remote peers",
        _ => "unknown result",
    };
}

/// <summary>The gateway does not speak PCP (it answered with version <see cref="Version"/>); NAT-PMP may work.</summary>
public sealed class PcpVersionException(int version) : Exception($"the gateway answered PCP with version {version}")
{
    /// <summary>The version the gateway answered with.</summary>
    public int Version { get; } = version;
}
