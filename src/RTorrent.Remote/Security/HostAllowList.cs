using System.Net;

namespace RTorrent.Remote.Security;

/// <summary>
/// Which names a client may use for the RPC in its <c>Host</c> header: the defence against DNS rebinding
/// (CVE-2018-5702 in Transmission), where a web page's own name is pointed at 127.0.0.1 so the browser treats the
/// RPC as the page's own origin. Allowed without listing: <c>localhost</c>, <c>localhost.</c>, any IP address
/// literal, so the bound address always works (a rebinding attack needs a name, and a page served from an address is
/// another origin anyway). Listed names may start with <c>*.</c> to allow their subdomains.
/// </summary>
public sealed class HostAllowList
{
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _suffixes = [];

    /// <summary>Allows <paramref name="names"/> besides the built-in ones.</summary>
    public HostAllowList(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (string raw in names)
        {
            string name = raw.Trim().TrimEnd('.');
            if (name.Length == 0) continue;
            if (name.StartsWith("*.", StringComparison.Ordinal)) _suffixes.Add(name[1..]);
            else _names.Add(name);
        }
    }

    /// <summary>Whether a request with this <c>Host</c> header value (port included or not) may be answered.</summary>
    public bool Allows(string? hostHeader)
    {
        if (string.IsNullOrWhiteSpace(hostHeader)) return false;
        string host = StripPort(hostHeader.Trim());
        if (host.Length == 0) return false;
        if (host.StartsWith('[') && host.EndsWith(']')) return IPAddress.TryParse(host[1..^1], out _);
        if (IPAddress.TryParse(host, out _)) return true;
        string name = host.TrimEnd('.');
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (_names.Contains(name)) return true;
        foreach (string suffix in _suffixes)
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && name.Length > suffix.Length) return true;
        return false;
    }

    private static string StripPort(string host)
    {
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            return close < 0 ? host : host[..(close + 1)];
        }
        int colon = host.IndexOf(':');
        // More than one colon without brackets is a bare IPv6 address (not valid in Host, but harmless to accept).
        return colon < 0 || host.IndexOf(':', colon + 1) >= 0 ? host : host[..colon];
    }
}
