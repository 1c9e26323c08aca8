using System.Text.Json;
using RTorrent.Engine.Session;
using RTorrent.Engine.Storage;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>session-get, session-stats, free-space, port-test, blocklist-update and session-close.</summary>
internal sealed class SessionMethods(TransmissionContext context)
{
    /// <summary>session-get: every field, or those <c>fields</c> lists (unknown names left out, as Transmission does).</summary>
    public void Get(Arguments args, string? sessionId, Utf8JsonWriter w)
    {
        var scope = new SessionScope { Context = context, Settings = context.Settings.Current, SessionId = sessionId };
        IEnumerable<SessionFields.Field> fields = SessionFields.All.Values.OrderBy(f => f.Name, StringComparer.Ordinal);
        if (args.TryGet("fields", out var list) && list.ValueKind == JsonValueKind.Array)
            fields = list.EnumerateArray()
                .Where(e => e.ValueKind == JsonValueKind.String)
                .Select(e => SessionFields.All.GetValueOrDefault(e.GetString()!))
                .OfType<SessionFields.Field>()
                .Distinct();
        w.WriteStartObject();
        foreach (var f in fields)
        {
            w.WritePropertyName(f.Name);
            f.Write(w, scope);
        }
        w.WriteEndObject();
    }

    /// <summary>session-stats: counts and speeds now, and the payload moved in this run and in all runs (stats.json).</summary>
    public async Task StatsAsync(Utf8JsonWriter w, CancellationToken cancellationToken)
    {
        var view = await context.Journal.GetAsync(cancellationToken).ConfigureAwait(false);
        var torrents = view.Session.Torrents;
        int active = torrents.Count(Units.IsRunning);
        var stats = context.Session.Statistics.GetSnapshot();
        w.WriteStartObject();
        w.WriteNumber("activeTorrentCount", active);
        w.WriteNumber("downloadSpeed", view.Session.DownloadRate);
        w.WriteNumber("pausedTorrentCount", torrents.Count - active);
        w.WriteNumber("torrentCount", torrents.Count);
        w.WriteNumber("uploadSpeed", view.Session.UploadRate);
        // RTorrent's own (Transmission has no such count; its clients ignore keys they do not know): attempts the
        // blocklist refused since the daemon started - connections, peers from any source, DHT packets.
        w.WriteNumber("blocklistBlocked", context.Session.Blocklist.BlockedCount);
        // Also RTorrent's own: what the router forwards to the listen port (docs/PORT-MAPPING.md).
        WritePortForwarding(w, context.Session.PortMapping);
        WriteTotals(w, "cumulative-stats", stats.Cumulative);
        WriteTotals(w, "current-stats", stats.Current);
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>portForwarding</c>: <c>state</c> (off, mapping, mapped, failed), and when known <c>method</c> (UPnP, NAT-PMP,
    /// PCP), <c>externalAddress</c>, <c>externalTcpPort</c>, <c>externalUdpPort</c> and <c>error</c> (why not, or why only in part).
    /// </summary>
    internal static void WritePortForwarding(Utf8JsonWriter w, Engine.PortMapping.PortMappingStatus status)
    {
        w.WriteStartObject("portForwarding");
        w.WriteString("state", status.State.ToString().ToLowerInvariant());
        if (status.Method is { } method) w.WriteString("method", method);
        if (status.ExternalAddress is { } address) w.WriteString("externalAddress", address);
        if (status.ExternalTcpPort is { } tcp) w.WriteNumber("externalTcpPort", tcp);
        if (status.ExternalUdpPort is { } udp) w.WriteNumber("externalUdpPort", udp);
        if (status.Error is { } error) w.WriteString("error", error);
        w.WriteEndObject();
    }

    private static void WriteTotals(Utf8JsonWriter w, string name, SessionStatisticsTotals totals)
    {
        w.WriteStartObject(name);
        w.WriteNumber("downloadedBytes", totals.DownloadedBytes);
        w.WriteNumber("filesAdded", totals.FilesAdded);
        w.WriteNumber("secondsActive", totals.SecondsActive);
        w.WriteNumber("sessionCount", totals.SessionCount);
        w.WriteNumber("uploadedBytes", totals.UploadedBytes);
        w.WriteEndObject();
    }

    /// <summary>
    /// free-space of a folder on the daemon's machine (or of its nearest existing parent, for a folder not created
    /// yet): <c>size-bytes</c> available to the daemon and <c>total_size</c> of the file system; -1 and an error
    /// result when it cannot be told.
    /// </summary>
    public async Task<string> FreeSpaceAsync(Arguments args, Utf8JsonWriter w, CancellationToken cancellationToken)
    {
        if (!args.TryGetString("path", out var path)) throw new RpcException("directory path argument is missing");
        if (!Path.IsPathFullyQualified(path)) throw new RpcException("directory path is not absolute");
        // statvfs may block on a dead network share: never on the request's thread.
        var (free, total) = await Task.Run(() => (DiskSpace.FreeBytes(path), DiskSpace.TotalBytes(path)), cancellationToken).ConfigureAwait(false);
        w.WriteStartObject();
        w.WriteString("path", path);
        w.WriteNumber("size-bytes", free ?? -1);
        w.WriteNumber("total_size", total ?? -1);
        w.WriteEndObject();
        return free is null || total is null ? $"cannot tell the free space of {path}" : "success";
    }

    /// <summary>
    /// port-test: Transmission asks its project's web service whether the port is reachable from the internet. RTorrent
    /// asks no outside service, so it cannot know, and says so rather than guess: an error result, never a made-up yes.
    /// </summary>
    public string PortTest() =>
        $"port-test: RTorrent cannot test whether port {context.Session.Engine.ListenPort} is reachable from the internet (it asks no " +
        "outside service); peers reach it if your router or firewall forwards it" + context.Session.PortMapping switch
        {
            { State: Engine.PortMapping.PortMappingState.Mapped } m =>
                $"; the router says it does: {m.ExternalAddress}:{m.ExternalTcpPort ?? m.ExternalUdpPort} ({m.Method})",
            { State: Engine.PortMapping.PortMappingState.Failed } m => $"; port mapping failed: {m.Error}",
            _ => "",
        };

    /// <summary>
    /// blocklist-update: downloads blocklist-url (and rereads blocklistFile) now and answers the ranges in force as
    /// <c>blocklist-size</c>, as Transmission does. A failed download keeps the list in force and is an error result
    /// saying why (with the size still in force in the arguments).
    /// </summary>
    public async Task<string> BlocklistUpdateAsync(Utf8JsonWriter w, CancellationToken cancellationToken)
    {
        string result;
        try
        {
            await context.Session.BlocklistUpdater.UpdateAsync(cancellationToken).ConfigureAwait(false);
            result = "success";
        }
        catch (Engine.Blocklists.BlocklistUpdateException e)
        {
            result = $"blocklist-update: {e.Message}";
        }
        w.WriteStartObject();
        w.WriteNumber("blocklist-size", context.Session.Blocklist.RuleCount);
        w.WriteEndObject();
        return result;
    }

    /// <summary>session-close: the daemon saves everything and stops once the answer is sent.</summary>
    public async Task<string> CloseAsync()
    {
        if (context.StopDaemon is not { } stop) throw new RpcException("session-close: this session cannot be closed through the RPC");
        await stop().ConfigureAwait(false);
        return "success";
    }
}
