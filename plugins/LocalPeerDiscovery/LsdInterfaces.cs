using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>A network interface LSD announces and listens on.</summary>
/// <param name="Name">The interface's name, e.g. <c>eth0</c>.</param>
/// <param name="IPv4Address">The IPv4 address to join and send from, or null.</param>
/// <param name="IPv6Index">The IPv6 interface index to join and send on, or null.</param>
internal sealed record LsdInterface(string Name, IPAddress? IPv4Address, int? IPv6Index);

/// <summary>Chooses interfaces from <see cref="LsdOptions.Interfaces"/>.</summary>
internal static class LsdInterfaces
{
    public static IReadOnlyList<LsdInterface> Resolve(LsdOptions options, out IReadOnlyList<string> problems)
    {
        var found = new List<LsdInterface>();
        var issues = new List<string>();
        NetworkInterface[] all;
        try
        {
            all = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException e)
        {
            all = [];
            issues.Add("cannot list network interfaces: " + e.Message);
        }

        if (options.Interfaces is null)
        {
            foreach (var nic in all)
            {
                if (nic.OperationalStatus != OperationalStatus.Up || !nic.SupportsMulticast) continue;
                if (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
                if (Describe(nic, null, options) is { } i) found.Add(i);
            }
            if (found.Count == 0) issues.Add("no multicast-capable network interface is up");
        }
        else
        {
            foreach (var wanted in options.Interfaces)
            {
                IPAddress? address = IPAddress.TryParse(wanted, out var a) ? a : null;
                var nic = all.FirstOrDefault(n => n.Name == wanted)
                    ?? (address is null ? null : all.FirstOrDefault(n => Addresses(n).Any(x => x.Equals(address))));
                if (nic is null && address is null)
                {
                    issues.Add($"no network interface named {wanted}");
                    continue;
                }
                var described = nic is null
                    ? (address!.AddressFamily == AddressFamily.InterNetwork ? new LsdInterface(wanted, address, null) : null)
                    : Describe(nic, address, options);
                if (described is null) issues.Add($"interface {wanted} has no usable address");
                else if (!found.Any(f => f.Name == described.Name)) found.Add(described);
            }
        }
        problems = issues;
        return found;
    }

    private static LsdInterface? Describe(NetworkInterface nic, IPAddress? preferred, LsdOptions options)
    {
        IPAddress? v4 = null;
        int? v6 = null;
        if (options.EnableIPv4)
            v4 = preferred?.AddressFamily == AddressFamily.InterNetwork
                ? preferred
                : Addresses(nic).FirstOrDefault(x => x.AddressFamily == AddressFamily.InterNetwork);
        if (options.EnableIPv6 && nic.Supports(NetworkInterfaceComponent.IPv6) && Addresses(nic).Any(x => x.AddressFamily == AddressFamily.InterNetworkV6))
        {
            try
            {
                v6 = nic.GetIPProperties().GetIPv6Properties().Index;
            }
            catch (NetworkInformationException)
            {
                v6 = null;
            }
        }
        return v4 is null && v6 is null ? null : new LsdInterface(nic.Name, v4, v6);
    }

    private static IEnumerable<IPAddress> Addresses(NetworkInterface nic)
    {
        try
        {
            return nic.GetIPProperties().UnicastAddresses.Select(u => u.Address).ToArray();
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }
}
