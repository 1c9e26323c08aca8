using System.Globalization;
using RTorrent.Engine.Client;

namespace RTorrent.Tui;

/// <summary>The status line: session rates and limits, listen port, connections, DHT nodes and free disk space.</summary>
public static class StatusLine
{
    /// <summary>
    /// Builds the line for <paramref name="width"/> cells. Segments are dropped from the least important end (DHT,
    /// connections, port) when the line would not fit; rates and free space always stay.
    /// </summary>
    public static string Build(SessionSnapshot? session, long? freeBytes, int width)
    {
        if (session is null) return TorrentText.Fit("Loading the session...", width);
        string down = "Down " + Units.CompactSize(session.DownloadRate) + "/s" +
            (session.DownloadLimit > 0 ? " (max " + Units.CompactSize(session.DownloadLimit) + ")" : "");
        string up = "Up " + Units.CompactSize(session.UploadRate) + "/s" +
            (session.UploadLimit > 0 ? " (max " + Units.CompactSize(session.UploadLimit) + ")" : "");
        string free = freeBytes is { } f ? Units.CompactSize(f) + " free" : "disk ?";
        string port = "port " + session.ListenPort.ToString(CultureInfo.InvariantCulture);
        string conns = session.Connections.ToString(CultureInfo.InvariantCulture) + " conns";
        string dht = session.DhtNodes is { } n ? "DHT " + n.ToString(CultureInfo.InvariantCulture) : "DHT off";

        var optional = new List<string> { port, conns, dht };
        while (true)
        {
            string line = string.Join("  ", new[] { down, up }.Concat(optional).Append(free));
            if (line.Length <= width || optional.Count == 0) return TorrentText.Fit(line, width);
            optional.RemoveAt(optional.Count - 1);
        }
    }
}
