using System.Collections.Frozen;
using System.Text.Json;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Settings;
using RTorrent.Engine.Storage;

namespace RTorrent.Remote.Transmission;

/// <summary>What session-get writes and session-set reads, for one request.</summary>
internal sealed class SessionScope
{
    public required TransmissionContext Context { get; init; }
    public required EngineSettings Settings { get; init; }
    public string? SessionId { get; init; }
}

/// <summary>
/// The session's fields (Transmission 4.0's session-get, all of them): how each is read from <see cref="EngineSettings"/>
/// and the engine, and which are fixed because RTorrent has no such feature. A fixed field answers the value that is
/// true (utp-enabled false, ...); session-set of a fixed field to that value
/// is accepted and to another refused with the reason (<see cref="SessionSet"/>). docs/RPC.md has the table.
/// </summary>
internal static class SessionFields
{
    /// <summary>A field's value.</summary>
    public delegate void Writer(Utf8JsonWriter w, SessionScope scope);

    /// <summary>One field: its writer, and for a fixed field the value and why it cannot change.</summary>
    public sealed record Field(string Name, Writer Write, FixedValue? Fixed = null, bool ReadOnly = false);

    /// <summary>A value RTorrent cannot change, with the reason a session-set of another value gets.</summary>
    public sealed record FixedValue(object Value, string Reason);

    private const string NoIncompleteDir = "RTorrent keeps a download in its download folder while it is incomplete";

    /// <summary>By name.</summary>
    public static FrozenDictionary<string, Field> All { get; } = Build().ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    private static IEnumerable<Field> Build()
    {
        static Field Live(string name, Writer write) => new(name, write);
        static Field ReadOnly(string name, Writer write) => new(name, write, ReadOnly: true);
        static Field FixedBool(string name, bool value, string reason) => new(name, (w, _) => w.WriteBooleanValue(value), new FixedValue(value, reason));
        static Field FixedInt(string name, long value, string reason) => new(name, (w, _) => w.WriteNumberValue(value), new FixedValue(value, reason));
        static Field FixedString(string name, string value, string reason) => new(name, (w, _) => w.WriteStringValue(value), new FixedValue(value, reason));

        yield return Live("alt-speed-down", (w, s) => w.WriteNumberValue(Units.ToKBps(s.Settings.AltDownloadRateLimit)));
        yield return Live("alt-speed-enabled", (w, s) => w.WriteBooleanValue(s.Settings.AltSpeedEnabled));
        yield return Live("alt-speed-time-begin", (w, s) => w.WriteNumberValue(s.Settings.AltSpeedScheduleBegin));
        yield return Live("alt-speed-time-day", (w, s) => w.WriteNumberValue(s.Settings.AltSpeedScheduleDays));
        yield return Live("alt-speed-time-enabled", (w, s) => w.WriteBooleanValue(s.Settings.AltSpeedScheduleEnabled));
        yield return Live("alt-speed-time-end", (w, s) => w.WriteNumberValue(s.Settings.AltSpeedScheduleEnd));
        yield return Live("alt-speed-up", (w, s) => w.WriteNumberValue(Units.ToKBps(s.Settings.AltUploadRateLimit)));
        yield return FixedBool("anti-brute-force-enabled", true,
            "RTorrent always delays wrong passwords (0.5 s doubling to 16 s) and blocks an address after 100 failures");
        yield return FixedInt("anti-brute-force-threshold", 100,
            "RTorrent always delays wrong passwords (0.5 s doubling to 16 s) and blocks an address after 100 failures");
        yield return Live("blocklist-enabled", (w, s) => w.WriteBooleanValue(s.Settings.BlocklistEnabled));
        yield return ReadOnly("blocklist-size", (w, s) => w.WriteNumberValue(s.Context.Session.Blocklist.RuleCount));
        yield return Live("blocklist-url", (w, s) => w.WriteStringValue(s.Settings.BlocklistUrl ?? ""));
        yield return Live("cache-size-mb", (w, s) => w.WriteNumberValue(s.Settings.DiskReadCacheSize / Units.MemoryMB));
        yield return ReadOnly("config-dir", (w, s) => w.WriteStringValue(s.Settings.SessionDirectory));
        yield return FixedString("default-trackers", "", "RTorrent adds no default trackers to torrents");
        yield return Live("dht-enabled", (w, s) => w.WriteBooleanValue(s.Settings.DhtEnabled));
        yield return Live("download-dir", (w, s) => w.WriteStringValue(s.Settings.DownloadDirectory));
        yield return ReadOnly("download-dir-free-space", (w, s) => w.WriteNumberValue(DiskSpace.FreeBytes(s.Settings.DownloadDirectory) ?? -1));
        yield return Live("download-queue-enabled", (w, s) => w.WriteBooleanValue(s.Settings.DownloadQueueEnabled));
        yield return Live("download-queue-size", (w, s) => w.WriteNumberValue(s.Settings.DownloadQueueSize));
        yield return Live("encryption", (w, s) => w.WriteStringValue(EncryptionName(s.Settings.Encryption)));
        yield return Live("idle-seeding-limit", (w, s) => w.WriteNumberValue(s.Settings.IdleSeedingLimit));
        yield return Live("idle-seeding-limit-enabled", (w, s) => w.WriteBooleanValue(s.Settings.IdleSeedingLimitEnabled));
        yield return FixedString("incomplete-dir", "", NoIncompleteDir);
        yield return FixedBool("incomplete-dir-enabled", false, NoIncompleteDir);
        yield return Live("lpd-enabled", (w, s) => w.WriteBooleanValue(s.Settings.LsdEnabled));
        yield return Live("ipv4-enabled", (w, s) => w.WriteBooleanValue(s.Settings.ListenOnIPv4));
        yield return Live("ipv6-enabled", (w, s) => w.WriteBooleanValue(s.Settings.ListenOnIPv6));
        yield return Live("peer-limit-global", (w, s) => w.WriteNumberValue(s.Settings.MaxConnections));
        yield return Live("peer-limit-per-torrent", (w, s) => w.WriteNumberValue(s.Settings.MaxConnectionsPerTorrent));
        yield return Live("peer-port", (w, s) => w.WriteNumberValue(s.Settings.ListenPort != 0 ? s.Settings.ListenPort : s.Context.Session.Engine.ListenPort));
        yield return Live("peer-port-random-on-start", (w, s) => w.WriteBooleanValue(s.Settings.ListenPort == 0));
        yield return Live("pex-enabled", (w, s) => w.WriteBooleanValue(s.Settings.PexEnabled));
        yield return Live("port-forwarding-enabled", (w, s) => w.WriteBooleanValue(s.Settings.PortForwardingEnabled));
        yield return Live("queue-stalled-enabled", (w, s) => w.WriteBooleanValue(s.Settings.QueueStalledEnabled));
        yield return Live("queue-stalled-minutes", (w, s) => w.WriteNumberValue(s.Settings.QueueStalledMinutes));
        yield return FixedBool("rename-partial-files", false, "RTorrent writes incomplete files under their final names");
        yield return ReadOnly("rpc-version", (w, _) => w.WriteNumberValue(TransmissionRpcHandler.RpcVersion));
        yield return ReadOnly("rpc-version-minimum", (w, _) => w.WriteNumberValue(TransmissionRpcHandler.RpcVersionMinimum));
        yield return ReadOnly("rpc-version-semver", (w, _) => w.WriteStringValue(TransmissionRpcHandler.RpcVersionSemver));
        yield return Live("script-torrent-added-enabled", (w, s) => w.WriteBooleanValue(s.Settings.AddedHookEnabled));
        yield return Live("script-torrent-added-filename", (w, s) => w.WriteStringValue(s.Settings.AddedHook ?? ""));
        yield return Live("script-torrent-done-enabled", (w, s) => w.WriteBooleanValue(s.Settings.CompletedHookEnabled));
        yield return Live("script-torrent-done-filename", (w, s) => w.WriteStringValue(s.Settings.CompletedHook ?? ""));
        yield return Live("script-torrent-done-seeding-enabled", (w, s) => w.WriteBooleanValue(s.Settings.SeedingDoneHookEnabled));
        yield return Live("script-torrent-done-seeding-filename", (w, s) => w.WriteStringValue(s.Settings.SeedingDoneHook ?? ""));
        // RTorrent's own seeding rules beside Transmission's (qBittorrent's max_seeding_time, min seeding time, max_ratio_act).
        yield return Live("seeding-time-limit", (w, s) => w.WriteNumberValue(s.Settings.SeedingTimeLimit));
        yield return Live("seeding-time-limit-enabled", (w, s) => w.WriteBooleanValue(s.Settings.SeedingTimeLimitEnabled));
        yield return Live("min-seeding-time", (w, s) => w.WriteNumberValue(s.Settings.MinSeedingTime));
        yield return Live("seeding-limit-action", (w, s) => w.WriteStringValue(ActionName(s.Settings.SeedingLimitAction)));
        yield return Live("seed-queue-enabled", (w, s) => w.WriteBooleanValue(s.Settings.SeedQueueEnabled));
        yield return Live("seed-queue-size", (w, s) => w.WriteNumberValue(s.Settings.SeedQueueSize));
        // RTorrent's proxy (docs/PROXIES.md; Transmission has none): read when the session starts. The password is
        // never sent back, only whether one is set.
        yield return Live("proxy-type", (w, s) => w.WriteStringValue(s.Settings.ProxyType.ToString().ToLowerInvariant()));
        yield return Live("proxy-host", (w, s) => w.WriteStringValue(s.Settings.ProxyHost ?? ""));
        yield return Live("proxy-port", (w, s) => w.WriteNumberValue(s.Settings.ProxyPort));
        yield return Live("proxy-username", (w, s) => w.WriteStringValue(s.Settings.ProxyUsername ?? ""));
        yield return Live("proxy-password", (w, s) => w.WriteStringValue(s.Settings.ProxyPassword is null ? "" : "(set)"));
        yield return Live("proxy-peers", (w, s) => w.WriteBooleanValue(s.Settings.ProxyPeers));
        yield return Live("proxy-trackers", (w, s) => w.WriteBooleanValue(s.Settings.ProxyTrackers));
        yield return Live("proxy-web-seeds", (w, s) => w.WriteBooleanValue(s.Settings.ProxyWebSeeds));
        yield return Live("proxy-dht", (w, s) => w.WriteBooleanValue(s.Settings.ProxyDht));
        yield return Live("proxy-only", (w, s) => w.WriteBooleanValue(s.Settings.ProxyOnly));
        yield return ReadOnly("proxy-in-use", (w, s) => w.WriteStringValue(s.Context.Session.Engine.Config.Proxy.Server?.ToString() ?? "none"));
        yield return Live("seedRatioLimit", (w, s) => w.WriteNumberValue(s.Settings.SeedRatioLimit ?? s.Settings.SeedRatioLimitWhenOn));
        yield return Live("seedRatioLimited", (w, s) => w.WriteBooleanValue(s.Settings.SeedRatioLimit is not null));
        yield return ReadOnly("session-id", (w, s) => w.WriteStringValue(s.SessionId ?? ""));
        yield return Live("speed-limit-down", (w, s) => w.WriteNumberValue(Units.ToKBps(Shown(s.Settings.DownloadRateLimit, s.Settings.DownloadRateLimitWhenOn))));
        yield return Live("speed-limit-down-enabled", (w, s) => w.WriteBooleanValue(s.Settings.DownloadRateLimit > 0));
        yield return Live("speed-limit-up", (w, s) => w.WriteNumberValue(Units.ToKBps(Shown(s.Settings.UploadRateLimit, s.Settings.UploadRateLimitWhenOn))));
        yield return Live("speed-limit-up-enabled", (w, s) => w.WriteBooleanValue(s.Settings.UploadRateLimit > 0));
        yield return Live("start-added-torrents", (w, s) => w.WriteBooleanValue(s.Settings.StartAddedTorrents));
        // Transmission's one switch per transport is both directions here (settings.json has four: enableIncomingTcp, ...):
        // it reads true while either direction is on, and setting it sets both.
        yield return Live("tcp-enabled", (w, s) => w.WriteBooleanValue(s.Settings.EnableIncomingTcp || s.Settings.EnableOutgoingTcp));
        yield return FixedBool("trash-original-torrent-files", false, "RTorrent leaves the .torrent files it is given where they are");
        yield return ReadOnly("units", (w, _) => WriteUnits(w));
        yield return Live("utp-enabled", (w, s) => w.WriteBooleanValue(s.Settings.EnableIncomingUtp || s.Settings.EnableOutgoingUtp));
        yield return ReadOnly("version", (w, s) => w.WriteStringValue(TransmissionRpcHandler.VersionString(s.Context.ProgramVersion)));
    }

    /// <summary>The limit shown: the one in force, or the one kept while it is off.</summary>
    private static long Shown(long limit, long whenOn) => limit > 0 ? limit : whenOn;

    /// <summary>
    /// Transmission's names for encryption: required (RC4 only), preferred (dial encrypted first), tolerated (dial plain,
    /// accept encrypted: RTorrent's "enabled"). RTorrent's "disabled" (plain only, encrypted peers refused) has no
    /// Transmission name and is answered as "disabled".
    /// </summary>
    public static string EncryptionName(EncryptionMode mode) => mode switch
    {
        EncryptionMode.Required => "required",
        EncryptionMode.Preferred => "preferred",
        EncryptionMode.Enabled => "tolerated",
        _ => "disabled",
    };

    /// <summary>seeding-limit-action's names: stop, remove, removeWithData (as settings.json spells them).</summary>
    public static string ActionName(Engine.Client.SeedingLimitAction action) => action switch
    {
        Engine.Client.SeedingLimitAction.Remove => "remove",
        Engine.Client.SeedingLimitAction.RemoveWithData => "removeWithData",
        _ => "stop",
    };

    public static Engine.Client.SeedingLimitAction? ParseAction(string name) => name switch
    {
        "stop" => Engine.Client.SeedingLimitAction.Stop,
        "remove" => Engine.Client.SeedingLimitAction.Remove,
        "removeWithData" => Engine.Client.SeedingLimitAction.RemoveWithData,
        _ => null,
    };

    public static EncryptionMode? ParseEncryption(string name) => name switch
    {
        "required" => EncryptionMode.Required,
        "preferred" => EncryptionMode.Preferred,
        "tolerated" => EncryptionMode.Enabled,
        "disabled" => EncryptionMode.Disabled,
        _ => null,
    };

    private static void WriteUnits(Utf8JsonWriter w)
    {
        // What the RPC's numbers mean: speeds and sizes in kB of 1000 bytes, memory (cache-size-mb) in MiB.
        w.WriteStartObject();
        WriteList(w, "speed-units", ["kB/s", "MB/s", "GB/s", "TB/s"]);
        w.WriteNumber("speed-bytes", Units.SpeedK);
        WriteList(w, "size-units", ["kB", "MB", "GB", "TB"]);
        w.WriteNumber("size-bytes", 1000);
        WriteList(w, "memory-units", ["KiB", "MiB", "GiB", "TiB"]);
        w.WriteNumber("memory-bytes", 1024);
        w.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter w, string name, string[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
