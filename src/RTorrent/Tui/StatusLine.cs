using System.Globalization;
using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>
/// The status line: session rates and limits, listen port (and what the router maps to it), connections, DHT nodes,
/// attempts the blocklist refused (while it is on), why port mapping failed, and free disk space; with several
/// daemons, each daemon's rates or why it is not connected; for a daemon that cannot be reached, why and when the next
/// attempt is.
/// </summary>
public static class StatusLine
{
    /// <summary>
    /// Builds the line for <paramref name="width"/> cells. Segments are dropped from the least important end (DHT,
    /// connections, port) when the line would not fit; rates and free space always stay.
    /// </summary>
    /// <summary>What the line starts with while turtle mode (the alternative rate limits) is on.</summary>
    public const string TurtleMark = "TURTLE";

    public static string Build(SessionSnapshot? session, long? freeBytes, int width)
    {
        if (session is null) return TorrentText.Fit("Loading the session...", width);
        string down = "Down " + Units.CompactSize(session.DownloadRate) + "/s" +
            (session.DownloadLimit > 0 ? " (max " + Units.CompactSize(session.DownloadLimit) + ")" : "");
        string up = "Up " + Units.CompactSize(session.UploadRate) + "/s" +
            (session.UploadLimit > 0 ? " (max " + Units.CompactSize(session.UploadLimit) + ")" : "");
        string free = freeBytes is { } f ? Units.CompactSize(f) + " free" : "disk ?";
        string port = "port " + session.ListenPort.ToString(CultureInfo.InvariantCulture) + Mapping(session.PortMapping);
        string conns = session.Connections.ToString(CultureInfo.InvariantCulture) + " conns";
        string dht = session.DhtNodes is { } n ? "DHT " + n.ToString(CultureInfo.InvariantCulture) : "DHT off";

        var optional = new List<string> { port, conns, dht };
        // Turtle mode says so first: the limits shown are then the turtle ones.
        string[] always = session.AltSpeedEnabled ? [TurtleMark, down, up] : [down, up];
        // The blocklist's refusals, only while it is on (dropped first when the line is short).
        if (session.BlockedAttempts is { } blocked) optional.Add(blocked.ToString(CultureInfo.InvariantCulture) + " blocked");
        // Why the port is not mapped (or only in part): the first segment dropped; the session log has it in full.
        if (session.PortMapping is { Error: { Length: > 0 } why }) optional.Add("mapping: " + why);
        while (true)
        {
            string line = string.Join("  ", always.Concat(optional).Append(free));
            if (line.Length <= width || optional.Count == 0) return TorrentText.Fit(line, width);
            optional.RemoveAt(optional.Count - 1);
        }
    }

    /// <summary>
    /// What the router forwards to the listen port, after "port N": " mapped 203.0.113.7:N UPnP" (the TCP port; the UDP
    /// one too when it differs), " mapping..." while asking, " not mapped" when every way failed; nothing while off.
    /// </summary>
    public static string Mapping(Engine.PortMapping.PortMappingStatus? status) => status switch
    {
        null or { State: Engine.PortMapping.PortMappingState.Off } => "",
        { State: Engine.PortMapping.PortMappingState.Mapping } => " mapping...",
        { State: Engine.PortMapping.PortMappingState.Failed } => " not mapped",
        var m => " mapped " + (m.ExternalAddress is { } a ? (a.Contains(':') ? "[" + a + "]" : a) + ":" : ":") +
            (m.ExternalTcpPort ?? m.ExternalUdpPort)?.ToString(CultureInfo.InvariantCulture) +
            (m.ExternalTcpPort is { } t && m.ExternalUdpPort is { } u && t != u ? "/udp " + u.ToString(CultureInfo.InvariantCulture) : "") +
            " " + m.Method,
    };

    /// <summary>
    /// The line for several hosts (<see cref="SessionSnapshot.Hosts"/>): the totals, then each host's rates, or that it
    /// is disconnected (why, and when it is tried again) or slow. To fit <paramref name="width"/> the reasons go first,
    /// then the totals, then the words; every host keeps its name.
    /// </summary>
    /// <param name="session">The merged snapshot.</param>
    /// <param name="now">The time, for the retry countdowns.</param>
    /// <param name="width">Cells available.</param>
    /// <param name="unicode">Arrows for the rates; otherwise "Dn" and "Up".</param>
    public static string BuildHosts(SessionSnapshot session, DateTimeOffset now, int width, bool unicode = false)
    {
        IReadOnlyList<HostStatus> hosts = session.Hosts ?? [];
        string Rates(long down, long up) => unicode
            ? "\u2193" + Units.CompactSize(down) + " \u2191" + Units.CompactSize(up)
            : "Dn " + Units.CompactSize(down) + " Up " + Units.CompactSize(up);
        string Host(HostStatus h, int detail)
        {
            if (h.Connected && h.Problem is null) return h.Name + " " + Rates(h.DownloadRate, h.UploadRate);
            if (h.Connected) return h.Name + ": slow";
            string? seconds = h.RetryAt is { } at && at > now ? TorrentText.Eta(at - now) : null;
            if (detail == 0) return h.Name + ": " + (seconds is null ? "off" : "retry " + seconds);
            string text = h.Name + ": disconnected";
            if (detail == 2 && h.Problem is { Length: > 0 } problem) text += " (" + problem + ")";
            if (h.RetryAt is not null) text += seconds is null ? ", retrying" : ", retry " + seconds;
            return text;
        }
        string Hosts(int detail) => string.Join("  ", hosts.Select(h => Host(h, detail)));
        string total = "Total " + Rates(session.DownloadRate, session.UploadRate) + "  |  ";
        string[] candidates = [total + Hosts(2), total + Hosts(1), Hosts(1), Hosts(0)];
        foreach (string line in candidates)
        {
            if (line.Length <= width) return line;
        }
        return TorrentText.Fit(candidates[^1], width);
    }

    /// <summary>
    /// The line while the one session cannot be reached: why, and when the backend tries again. The countdown stays
    /// whole; the reason is cut to fit.
    /// </summary>
    public static string BuildUnavailable(string problem, DateTimeOffset? retryAt, DateTimeOffset now, int width)
    {
        string text = "Disconnected: " + TorrentText.OneLine(problem);
        string retry = "  " + RetryText(retryAt, now);
        if (width - retry.Length < 20) return TorrentText.Fit(text + retry, width);
        return TorrentText.Fit(text, width - retry.Length) + retry;
    }

    /// <summary>"retry in 8s" (or "retrying" when the attempt is due or its time unknown).</summary>
    public static string RetryText(DateTimeOffset? retryAt, DateTimeOffset now) =>
        retryAt is { } at && at > now ? "retry in " + TorrentText.Eta(at - now) : "retrying";
}
