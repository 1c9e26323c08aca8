using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// The IPv4 default gateway, where NAT-PMP and PCP requests go. On Linux it is read from <c>/proc/net/route</c> (the
/// default route with the gateway flag and the lowest metric); elsewhere, or when that file cannot be read, from the
/// first gateway .NET reports for an interface that is up.
/// </summary>
public static class DefaultGateway
{
    /// <summary>The default gateway, or null when there is none.</summary>
    public static IPAddress? Find()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/net/route"))
                return ParseProcNetRoute(File.ReadAllText("/proc/net/route"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // fall back on what .NET says
        }
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().GatewayAddresses)
                .Select(g => g.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !a.Equals(IPAddress.Any));
        }
        catch (NetworkInformationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The gateway of the default route in the text of <c>/proc/net/route</c>: a line whose destination and mask are 0
    /// and whose flags have RTF_UP (1) and RTF_GATEWAY (2); the lowest metric wins. Addresses are hexadecimal in the
    /// machine's byte order (little-endian on every machine .NET runs Linux on). Malformed lines are skipped.
    /// </summary>
    public static IPAddress? ParseProcNetRoute(string text)
    {
        IPAddress? best = null;
        int bestMetric = int.MaxValue;
        foreach (var line in text.Split('\n').Skip(1).Take(4096))
        {
            var f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8) continue;
            if (!uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint destination) ||
                !uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint gateway) ||
                !uint.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint flags) ||
                !int.TryParse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out int metric) ||
                !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint mask))
                continue;
            if (destination != 0 || mask != 0 || (flags & 3) != 3 || gateway == 0 || metric >= bestMetric) continue;
            best = new IPAddress(BitConverter.IsLittleEndian ? gateway : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(gateway));
            bestMetric = metric;
        }
        return best;
    }

    /// <summary>Our address on the way to <paramref name="remote"/> (a UDP socket "connected" to it; nothing is sent).</summary>
    public static IPAddress LocalAddressTowards(IPAddress remote)
    {
        using var s = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        s.Connect(new IPEndPoint(remote, 9));
        return ((IPEndPoint)s.LocalEndPoint!).Address;
    }
}
