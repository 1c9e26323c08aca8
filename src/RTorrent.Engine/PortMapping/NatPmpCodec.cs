using System.Buffers.Binary;
using System.Net;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// NAT-PMP's messages (RFC 6886): the external-address request and the map request, and their answers. Answers are
/// checked for size, version, opcode and port before anything is taken from them.
/// </summary>
public static class NatPmpCodec
{
    /// <summary>The port the gateway listens on (NAT-PMP and PCP share it).</summary>
    public const int ServerPort = 5351;

    /// <summary>Result code 1: the gateway speaks another version (how a NAT-PMP gateway answers a PCP request).</summary>
    public const int UnsupportedVersion = 1;

    /// <summary>The external-address request: version 0, opcode 0.</summary>
    public static byte[] ExternalAddressRequest() => [0, 0];

    /// <summary>A map request (lifetime 0 and external port 0 remove the mapping).</summary>
    public static byte[] MapRequest(MappingTransport transport, int internalPort, int suggestedExternalPort, uint lifetimeSeconds)
    {
        var b = new byte[12];
        b[0] = 0;
        b[1] = Opcode(transport);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), checked((ushort)internalPort));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), checked((ushort)suggestedExternalPort));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), lifetimeSeconds);
        return b;
    }

    private static byte Opcode(MappingTransport transport) => transport == MappingTransport.Udp ? (byte)1 : (byte)2;

    /// <summary>Reads the answer's version and result code without checking anything else (for the PCP fallback).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> answer, out int version, out int resultCode)
    {
        version = resultCode = 0;
        if (answer.Length < 4) return false;
        version = answer[0];
        resultCode = BinaryPrimitives.ReadUInt16BigEndian(answer[2..]);
        return true;
    }

    /// <summary>Parses the answer to <see cref="ExternalAddressRequest"/>.</summary>
    /// <exception cref="PortMappingException">Not an answer to it, or a refusal (with the result code's meaning).</exception>
    public static IPAddress ParseExternalAddress(ReadOnlySpan<byte> answer)
    {
        CheckHeader(answer, 0, 12);
        return new IPAddress(answer.Slice(8, 4));
    }

    /// <summary>Parses the answer to <see cref="MapRequest"/> for <paramref name="internalPort"/>.</summary>
    /// <returns>The external port and the lifetime granted, in seconds.</returns>
    /// <exception cref="PortMappingException">Not the answer to that request, or a refusal.</exception>
    public static (int ExternalPort, uint LifetimeSeconds) ParseMap(ReadOnlySpan<byte> answer, MappingTransport transport, int internalPort)
    {
        CheckHeader(answer, Opcode(transport), 16);
        int port = BinaryPrimitives.ReadUInt16BigEndian(answer[8..]);
        if (port != internalPort) throw new PortMappingException($"NAT-PMP answer for port {port}, not {internalPort}");
        return (BinaryPrimitives.ReadUInt16BigEndian(answer[10..]), BinaryPrimitives.ReadUInt32BigEndian(answer[12..]));
    }

    private static void CheckHeader(ReadOnlySpan<byte> answer, int opcode, int size)
    {
        if (answer.Length < 4) throw new PortMappingException($"NAT-PMP answer of {answer.Length} bytes is too short");
        if (answer[0] != 0) throw new PortMappingException($"NAT-PMP answer of version {answer[0]}, not 0");
        if (answer[1] != 128 + opcode) throw new PortMappingException($"NAT-PMP answer with opcode {answer[1]}, not {128 + opcode}");
        int result = BinaryPrimitives.ReadUInt16BigEndian(answer[2..]);
        if (result != 0) throw new PortMappingException($"the gateway refused (NAT-PMP result {result}: {ResultText(result)})");
        if (answer.Length < size) throw new PortMappingException($"NAT-PMP answer of {answer.Length} bytes, not {size}");
    }

    /// <summary>RFC 6886's result codes in words.</summary>
    public static string ResultText(int code) => code switch
    {
        0 => "success",
        1 => "unsupported version",
        2 => "not authorized or refused",
        3 => "network failure (the gateway has no outside address)",
        4 => "out of resources",
        5 => "unsupported opcode",
        _ => "unknown result",
    };
}
