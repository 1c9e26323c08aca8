using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RTorrent.Remote.Security;

/// <summary>
/// Which client addresses may use the RPC. Entries are addresses (<c>127.0.0.1</c>, <c>::1</c>), Transmission's
/// wildcards (<c>192.168.*.*</c>, <c>*</c> for everyone) or CIDR blocks (<c>10.0.0.0/8</c>, <c>fd00::/8</c>).
/// IPv4 clients seen through a dual-stack socket (<c>::ffff:192.168.1.2</c>) are matched as IPv4.
/// </summary>
public sealed class AddressAllowList
{
    private readonly List<(byte[] Network, int PrefixBits)> _blocks = [];
    private readonly List<string[]> _wildcards = [];
    private bool _everyone;

    /// <summary>Parses <paramref name="entries"/>.</summary>
    /// <exception cref="FormatException">An entry is none of the accepted forms (the message names it).</exception>
    public AddressAllowList(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (string raw in entries)
        {
            string entry = raw.Trim();
            if (entry.Length == 0) continue;
            if (entry == "*") { _everyone = true; continue; }
            int slash = entry.IndexOf('/');
            if (slash > 0)
            {
                if (!TryParseAddress(entry[..slash], out IPAddress? network) ||
                    !int.TryParse(entry.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int bits))
                    throw new FormatException($"'{entry}' is not an address, a CIDR block or a wildcard");
                byte[] bytes = Normalize(network).GetAddressBytes();
                if (bits < 0 || bits > bytes.Length * 8) throw new FormatException($"'{entry}': a /{bits} block does not fit the address");
                _blocks.Add((bytes, bits));
            }
            else if (entry.Contains('*'))
            {
                string[] parts = entry.Split('.');
                if (parts.Length != 4 || parts.Any(p => p != "*" && !byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                    throw new FormatException($"'{entry}' is not an IPv4 wildcard such as 192.168.*.*");
                _wildcards.Add(parts);
            }
            else if (TryParseAddress(entry, out IPAddress? single))
            {
                byte[] bytes = Normalize(single).GetAddressBytes();
                _blocks.Add((bytes, bytes.Length * 8));
            }
            else
            {
                throw new FormatException($"'{entry}' is not an address, a CIDR block or a wildcard");
            }
        }
    }

    /// <summary>Whether <paramref name="address"/> may connect.</summary>
    public bool Allows(IPAddress? address)
    {
        if (_everyone) return true;
        if (address is null) return false;
        address = Normalize(address);
        byte[] bytes = address.GetAddressBytes();
        foreach ((byte[] network, int bits) in _blocks)
            if (network.Length == bytes.Length && PrefixMatches(network, bytes, bits)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            foreach (string[] parts in _wildcards)
            {
                bool match = true;
                for (int i = 0; i < 4 && match; i++)
                    match = parts[i] == "*" || byte.Parse(parts[i], CultureInfo.InvariantCulture) == bytes[i];
                if (match) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// An address as written: IPv4 only as four decimal numbers. IPAddress.TryParse also takes inet_aton's forms, so
    /// "192.168.1" would mean 192.168.0.1, "10" 0.0.0.10 and "010.0.0.1" (octal) 8.0.0.1: an allow-list entry must
    /// mean what it looks like, or be refused.
    /// </summary>
    private static bool TryParseAddress(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (!text.Contains(':'))
        {
            string[] parts = text.Split('.');
            if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || (p.Length > 1 && p[0] == '0')))
                return false;
        }
        return IPAddress.TryParse(text, out address);
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static bool PrefixMatches(byte[] network, byte[] address, int bits)
    {
        int full = bits / 8;
        for (int i = 0; i < full; i++)
            if (network[i] != address[i]) return false;
        int rest = bits % 8;
        if (rest == 0) return true;
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (network[full] & mask) == (address[full] & mask);
    }
}
