using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// Finds UPnP Internet gateway devices with SSDP: an M-SEARCH multicast to 239.255.255.250:1900 and the LOCATION of
/// each answer within the wait. Answers are read into a 2 KiB buffer; one whose LOCATION is not an http address on the
/// host that answered is ignored, so a datagram cannot send us to fetch a description from elsewhere.
/// </summary>
public sealed class SsdpDiscovery(TimeProvider time)
{
    /// <summary>SSDP's multicast group and port.</summary>
    public static readonly IPEndPoint MulticastGroup = new(IPAddress.Parse("239.255.255.250"), 1900);

    /// <summary>The search targets: the gateway device (v1 matches v2 devices too) and its connection services.</summary>
    public static readonly IReadOnlyList<string> SearchTargets =
    [
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
        "urn:schemas-upnp-org:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:WANPPPConnection:1",
    ];

    /// <summary>The largest answer read; SSDP answers are a few hundred bytes.</summary>
    public const int MaxAnswerSize = 2048;

    /// <summary>How long to collect answers (M-SEARCH's MX is 2 s; routers answer within a second).</summary>
    public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Where the M-SEARCH goes (tests point it at a unicast responder).</summary>
    public IPEndPoint Target { get; init; } = MulticastGroup;

    /// <summary>The M-SEARCH request for one search target.</summary>
    public static byte[] SearchRequest(string searchTarget) => Encoding.ASCII.GetBytes(
        "M-SEARCH * HTTP/1.1\r\n" +
        "HOST: 239.255.255.250:1900\r\n" +
        "MAN: \"ssdp:discover\"\r\n" +
        "MX: 2\r\n" +
        $"ST: {searchTarget}\r\n" +
        "\r\n");

    /// <summary>
    /// The LOCATION of an SSDP answer from <paramref name="sender"/>: an HTTP/1.x 200 answer whose LOCATION header is an
    /// absolute http:// address on the sender's own address. Null for anything else.
    /// </summary>
    public static Uri? ParseLocation(ReadOnlySpan<byte> answer, IPAddress sender)
    {
        if (answer.Length > MaxAnswerSize) return null;
        string text = Encoding.ASCII.GetString(answer);
        var lines = text.Split('\n');
        var status = lines[0].TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "200") return null;
        foreach (var raw in lines.Skip(1))
        {
            var line = raw.TrimEnd('\r');
            int colon = line.IndexOf(':');
            if (colon <= 0 || !line.AsSpan(0, colon).Trim().Equals("LOCATION", StringComparison.OrdinalIgnoreCase)) continue;
            var value = line[(colon + 1)..].Trim();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp) return null;
            if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out var host)) return null;
            var s = sender.IsIPv4MappedToIPv6 ? sender.MapToIPv4() : sender;
            return host.Equals(s) ? uri : null;
        }
        return null;
    }

    /// <summary>
    /// Sends the searches from <paramref name="local"/> (the address towards the gateway, so the multicast leaves on
    /// that interface; null lets the system choose) and returns the distinct locations heard within <see cref="Wait"/>.
    /// </summary>
    public async Task<IReadOnlyList<Uri>> DiscoverAsync(IPAddress? local, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(local ?? IPAddress.Any, 0));
        if (local is not null) socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, local.GetAddressBytes());
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 2);
        foreach (var st in SearchTargets)
            await socket.SendToAsync(SearchRequest(st), SocketFlags.None, Target, cancellationToken).ConfigureAwait(false);
        var found = new List<Uri>();
        var buffer = new byte[MaxAnswerSize + 1];
        using var timeout = new CancellationTokenSource(Wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (found.Count < 16)
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), linked.Token).ConfigureAwait(false);
                if (r.ReceivedBytes > MaxAnswerSize || r.RemoteEndPoint is not IPEndPoint from) continue;
                if (ParseLocation(buffer.AsSpan(0, r.ReceivedBytes), from.Address) is { } location && !found.Contains(location))
                {
                    found.Add(location);
                    // One gateway is what a home network has: stop soon after the first answer instead of waiting it out.
                    timeout.CancelAfter(TimeSpan.FromMilliseconds(300));
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // the wait is over
        }
        catch (SocketException) when (found.Count > 0)
        {
            // keep what was heard
        }
        return found;
    }
}
