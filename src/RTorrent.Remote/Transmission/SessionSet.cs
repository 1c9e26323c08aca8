using RTorrent.Engine.Settings;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// <c>session-set</c> onto <see cref="EngineSettings"/> through <see cref="Engine.Session.SessionSettings.UpdateAsync"/>
/// (validated, saved to settings.json without the command line's overrides, limits applied at once). Every argument
/// is read first: a wrong type refuses the call before anything changes. Then all that can be applied is, in one
/// change, and the error result names every key that could not be (a fixed field set to another value, a value out
/// of range) with the reason. Read-only fields (version, units, ...) and keys Transmission does not know are ignored,
/// as Transmission ignores them.
/// </summary>
internal sealed class SessionSet(TransmissionContext context)
{
    private static readonly HashSet<string> BoolKeys =
    [
        "blocklist-enabled", "dht-enabled", "lpd-enabled", "pex-enabled", "port-forwarding-enabled", "peer-port-random-on-start", "seedRatioLimited", "speed-limit-down-enabled",
        "speed-limit-up-enabled", "start-added-torrents", "alt-speed-enabled", "alt-speed-time-enabled", "script-torrent-added-enabled",
        "script-torrent-done-enabled", "script-torrent-done-seeding-enabled", "download-queue-enabled", "seed-queue-enabled", "queue-stalled-enabled",
        "idle-seeding-limit-enabled", "seeding-time-limit-enabled", "ipv4-enabled", "ipv6-enabled", "utp-enabled", "tcp-enabled",
        "proxy-peers", "proxy-trackers", "proxy-web-seeds", "proxy-dht", "proxy-only",
    ];

    private static readonly HashSet<string> IntKeys =
        ["cache-size-mb", "peer-limit-global", "peer-limit-per-torrent", "peer-port", "speed-limit-down", "speed-limit-up", "alt-speed-down",
        "alt-speed-up", "alt-speed-time-begin", "alt-speed-time-end", "alt-speed-time-day", "download-queue-size", "seed-queue-size",
        "queue-stalled-minutes", "idle-seeding-limit", "seeding-time-limit", "min-seeding-time", "proxy-port"];

    private static readonly HashSet<string> StringKeys = ["blocklist-url", "download-dir", "encryption", "script-torrent-added-filename", "script-torrent-done-filename", "script-torrent-done-seeding-filename",
        "seeding-limit-action", "proxy-type", "proxy-host", "proxy-username", "proxy-password"];

    public async Task<string> RunAsync(Arguments args)
    {
        if (args.TryGetString("download-dir", out var downloadDir) && !Path.IsPathFullyQualified(downloadDir))
            throw new RpcException("download directory path is not absolute");
        if (args.TryGetString("incomplete-dir", out var incomplete) && incomplete.Length > 0 && !Path.IsPathFullyQualified(incomplete))
            throw new RpcException("incomplete torrents directory path is not absolute");

        // Read everything first.
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var key in args.Keys)
        {
            if (!SessionFields.All.TryGetValue(key, out var field) || field.ReadOnly) continue;
            if (field.Fixed is { } fixedValue)
            {
                object given = fixedValue.Value switch
                {
                    bool => args.TryGetBool(key, out bool b) && b,
                    long => args.TryGetLong(key, out long n) ? n : 0L,
                    _ => args.TryGetString(key, out var s) ? s : "",
                };
                if (!given.Equals(fixedValue.Value)) problems.Add($"{key}: {fixedValue.Reason}");
            }
            else if (BoolKeys.Contains(key)) values[key] = args.TryGetBool(key, out bool b) && b;
            else if (IntKeys.Contains(key)) values[key] = args.TryGetLong(key, out long n) ? n : 0L;
            else if (StringKeys.Contains(key)) values[key] = args.TryGetString(key, out var s) ? s : "";
            else if (key == "seedRatioLimit") values[key] = args.TryGetDouble(key, out double d) ? d : 0.0;
        }

        var engineListenPort = context.Session.Engine.ListenPort;
        if (values.Count > 0)
        {
            try
            {
                await context.Settings.UpdateAsync(s => Apply(s, values, problems, engineListenPort)).ConfigureAwait(false);
            }
            catch (SettingsException e)
            {
                problems.Add(string.Join("; ", e.Errors));
            }
        }
        return problems.Count == 0 ? "success" : string.Join("; ", problems);
    }

    private static T? Get<T>(Dictionary<string, object> values, string key) where T : struct =>
        values.TryGetValue(key, out var v) ? (T)v : null;

    private static EngineSettings Apply(EngineSettings s, Dictionary<string, object> values, List<string> problems, int engineListenPort)
    {
        if (values.TryGetValue("download-dir", out var dir)) s = s with { DownloadDirectory = (string)dir };
        if (Get<bool>(values, "start-added-torrents") is { } start) s = s with { StartAddedTorrents = start };
        if (Get<bool>(values, "dht-enabled") is { } dht) s = s with { DhtEnabled = dht };
        if (Get<bool>(values, "blocklist-enabled") is { } blocklist) s = s with { BlocklistEnabled = blocklist };
        if (values.TryGetValue("blocklist-url", out var url))
        {
            // "" clears it, as in Transmission's web client; anything else must be an http(s) address.
            var text = ((string)url).Trim();
            if (text.Length == 0) s = s with { BlocklistUrl = null };
            else if (EngineSettings.IsHttpUrl(text)) s = s with { BlocklistUrl = text };
            else problems.Add($"blocklist-url: must be an http:// or https:// address (or \"\" for none), not '{url}'");
        }
        if (Get<bool>(values, "pex-enabled") is { } pex) s = s with { PexEnabled = pex };
        if (Get<bool>(values, "lpd-enabled") is { } lpd) s = s with { LsdEnabled = lpd };
        // RTorrent's own: the families the peer port, the DHT and LSD use (settings.json listenOnIPv4/6; next start).
        if (Get<bool>(values, "ipv4-enabled") is { } ipv4) s = s with { ListenOnIPv4 = ipv4 };
        if (Get<bool>(values, "ipv6-enabled") is { } ipv6) s = s with { ListenOnIPv6 = ipv6 };
        if (Get<bool>(values, "port-forwarding-enabled") is { } forwarding) s = s with { PortForwardingEnabled = forwarding };
        if (Get<bool>(values, "utp-enabled") is { } utp) s = s with { EnableIncomingUtp = utp, EnableOutgoingUtp = utp };
        if (Get<bool>(values, "tcp-enabled") is { } tcp) s = s with { EnableIncomingTcp = tcp, EnableOutgoingTcp = tcp };
        if (values.TryGetValue("encryption", out var encryption))
        {
            if (SessionFields.ParseEncryption((string)encryption) is { } mode) s = s with { Encryption = mode };
            else problems.Add($"encryption: must be required, preferred or tolerated (or disabled), not '{encryption}'");
        }
        if (Get<long>(values, "cache-size-mb") is { } cache)
        {
            if (cache is < 0 or > 1024 * 1024) problems.Add($"cache-size-mb: must be 0 (no cache) to 1048576, not {cache}");
            else s = s with { DiskReadCacheSize = cache * Units.MemoryMB };
        }
        if (Get<long>(values, "peer-limit-global") is { } global)
        {
            if (global is < 1 or > int.MaxValue) problems.Add($"peer-limit-global: must be 1 or more, not {global}");
            else s = s with { MaxConnections = (int)global };
        }
        if (Get<long>(values, "peer-limit-per-torrent") is { } perTorrent)
        {
            if (perTorrent is < 1 or > int.MaxValue) problems.Add($"peer-limit-per-torrent: must be 1 or more, not {perTorrent}");
            else s = s with { MaxConnectionsPerTorrent = (int)perTorrent };
        }
        s = Queue(s, values, problems);
        s = SeedingRules(s, values, problems);
        s = Port(s, Get<long>(values, "peer-port"), Get<bool>(values, "peer-port-random-on-start"), engineListenPort, problems);
        var (down, downWhenOn) = Speed(s.DownloadRateLimit, s.DownloadRateLimitWhenOn, Get<long>(values, "speed-limit-down"),
            Get<bool>(values, "speed-limit-down-enabled"), "down", problems);
        var (up, upWhenOn) = Speed(s.UploadRateLimit, s.UploadRateLimitWhenOn, Get<long>(values, "speed-limit-up"),
            Get<bool>(values, "speed-limit-up-enabled"), "up", problems);
        s = s with { DownloadRateLimit = down, DownloadRateLimitWhenOn = downWhenOn, UploadRateLimit = up, UploadRateLimitWhenOn = upWhenOn };
        s = AltSpeed(s, values, problems);
        s = Hooks(s, values, problems);
        s = Proxy(s, values, problems);
        return SeedRatio(s, Get<double>(values, "seedRatioLimit"), Get<bool>(values, "seedRatioLimited"), problems);
    }

    /// <summary>
    /// proxy-* onto the proxy settings (applied at the session's next start). Empty strings clear the host, user name
    /// and password; the settings' own checks (a host for a proxy type, a proxy for proxy-only) refuse the rest.
    /// </summary>
    private static EngineSettings Proxy(EngineSettings s, Dictionary<string, object> values, List<string> problems)
    {
        if (values.TryGetValue("proxy-type", out var type))
        {
            if (Enum.TryParse<Engine.Proxies.ProxyKind>((string)type, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse((string)type, out _))
                s = s with { ProxyType = kind };
            else problems.Add($"proxy-type: must be none, socks4, socks5 or http, not '{type}'");
        }
        if (values.TryGetValue("proxy-host", out var host)) s = s with { ProxyHost = ((string)host).Trim() is { Length: > 0 } h ? h : null };
        if (Get<long>(values, "proxy-port") is { } port)
        {
            if (port is < 1 or > 65535) problems.Add($"proxy-port: must be 1-65535, not {port}");
            else s = s with { ProxyPort = (int)port };
        }
        if (values.TryGetValue("proxy-username", out var user)) s = s with { ProxyUsername = (string)user is { Length: > 0 } u ? u : null };
        if (values.TryGetValue("proxy-password", out var password)) s = s with { ProxyPassword = (string)password is { Length: > 0 } p ? p : null };
        if (Get<bool>(values, "proxy-peers") is { } peers) s = s with { ProxyPeers = peers };
        if (Get<bool>(values, "proxy-trackers") is { } trackers) s = s with { ProxyTrackers = trackers };
        if (Get<bool>(values, "proxy-web-seeds") is { } webSeeds) s = s with { ProxyWebSeeds = webSeeds };
        if (Get<bool>(values, "proxy-dht") is { } dht) s = s with { ProxyDht = dht };
        if (Get<bool>(values, "proxy-only") is { } only) s = s with { ProxyOnly = only };
        return s;
    }

    /// <summary>
    /// alt-speed-* onto turtle mode: the limits in kB/s (0 = unlimited that way, where Transmission would stop
    /// transfer: RTorrent cannot), the schedule in minutes after local midnight and Transmission's day bitmask.
    /// </summary>
    private static EngineSettings AltSpeed(EngineSettings s, Dictionary<string, object> values, List<string> problems)
    {
        if (Get<bool>(values, "alt-speed-enabled") is { } on) s = s with { AltSpeedEnabled = on };
        if (Get<bool>(values, "alt-speed-time-enabled") is { } scheduled) s = s with { AltSpeedScheduleEnabled = scheduled };
        if (Get<long>(values, "alt-speed-down") is { } down)
        {
            if (down < 0 || down > long.MaxValue / Units.SpeedK) problems.Add($"alt-speed-down: must be 0 (unlimited) or more kB/s, not {down}");
            else s = s with { AltDownloadRateLimit = down * Units.SpeedK };
        }
        if (Get<long>(values, "alt-speed-up") is { } up)
        {
            if (up < 0 || up > long.MaxValue / Units.SpeedK) problems.Add($"alt-speed-up: must be 0 (unlimited) or more kB/s, not {up}");
            else s = s with { AltUploadRateLimit = up * Units.SpeedK };
        }
        foreach (var (key, max) in new[] { ("alt-speed-time-begin", 1439L), ("alt-speed-time-end", 1439L), ("alt-speed-time-day", 127L) })
        {
            if (Get<long>(values, key) is not { } n) continue;
            if (n < 0 || n > max)
            {
                problems.Add(key == "alt-speed-time-day"
                    ? $"{key}: must be 0-127 (Sunday 1, Monday 2, ... Saturday 64), not {n}"
                    : $"{key}: must be 0-1439 (minutes after midnight), not {n}");
                continue;
            }
            s = key switch
            {
                "alt-speed-time-begin" => s with { AltSpeedScheduleBegin = (int)n },
                "alt-speed-time-end" => s with { AltSpeedScheduleEnd = (int)n },
                _ => s with { AltSpeedScheduleDays = (int)n },
            };
        }
        return s;
    }

    /// <summary>
    /// script-torrent-added-*, script-torrent-done-* and script-torrent-done-seeding-* onto the added, completed and
    /// seeding-done hooks: the filename is kept while
    /// the hook is off; "" clears it. Switching a hook on without a program is refused by the settings' validation.
    /// </summary>
    private static EngineSettings Hooks(EngineSettings s, Dictionary<string, object> values, List<string> problems)
    {
        static string? Program(object value) => value is string { Length: > 0 } p ? p : null;
        if (values.TryGetValue("script-torrent-added-filename", out var added))
        {
            if (Program(added) is { } p && !Path.IsPathFullyQualified(p)) problems.Add($"script-torrent-added-filename: must be an absolute path, not '{p}'");
            else s = s with { AddedHook = Program(added) };
        }
        if (values.TryGetValue("script-torrent-done-filename", out var done))
        {
            if (Program(done) is { } p && !Path.IsPathFullyQualified(p)) problems.Add($"script-torrent-done-filename: must be an absolute path, not '{p}'");
            else s = s with { CompletedHook = Program(done) };
        }
        if (Get<bool>(values, "script-torrent-added-enabled") is { } addedOn) s = s with { AddedHookEnabled = addedOn };
        if (values.TryGetValue("script-torrent-done-seeding-filename", out var seeded))
        {
            if (Program(seeded) is { } p && !Path.IsPathFullyQualified(p))
                problems.Add($"script-torrent-done-seeding-filename: must be an absolute path, not '{p}'");
            else s = s with { SeedingDoneHook = Program(seeded) };
        }
        if (Get<bool>(values, "script-torrent-done-enabled") is { } doneOn) s = s with { CompletedHookEnabled = doneOn };
        if (Get<bool>(values, "script-torrent-done-seeding-enabled") is { } seededOn) s = s with { SeedingDoneHookEnabled = seededOn };
        return s;
    }

    /// <summary>
    /// speed-limit-X (kB/s) and speed-limit-X-enabled onto the limit in force (0 = none) and the limit kept while it
    /// is off (settings.json: downloadRateLimitWhenOn): switching off keeps the value, switching on brings it back, a
    /// value set while off is kept for later. 0 kB/s switched on is refused: Transmission would stop that direction
    /// entirely, which RTorrent cannot do.
    /// </summary>
    private static (long Limit, long WhenOn) Speed(long current, long whenOn, long? kbps, bool? enabled, string direction, List<string> problems)
    {
        string key = $"speed-limit-{direction}";
        if (kbps is < 0)
        {
            problems.Add($"{key}: must be 0 or more kB/s, not {kbps}");
            return (current, whenOn);
        }
        long? bytes = kbps * Units.SpeedK;
        const string zero = "a limit of 0 kB/s would stop all transfer that way, which RTorrent cannot do; switch the limit off instead";
        switch (enabled)
        {
            case true:
                long value = bytes ?? (current > 0 ? current : whenOn);
                if (value > 0) return (value, value);
                problems.Add(bytes is null ? $"{key}-enabled: there is no limit to switch on; give {key} (kB/s) with it" : $"{key}: {zero}");
                return (current, whenOn);
            case false:
                return (0, bytes ?? (current > 0 ? current : whenOn));
            default:
                if (bytes is null) return (current, whenOn);
                if (current == 0) return (0, bytes.Value); // off: kept for when it is switched on
                if (bytes > 0) return (bytes.Value, bytes.Value);
                problems.Add($"{key}: {zero}");
                return (current, whenOn);
        }
    }

    /// <summary>seedRatioLimit and seedRatioLimited onto the limit in force (null = none) and the one kept while off.</summary>
    private static EngineSettings SeedRatio(EngineSettings s, double? ratio, bool? limited, List<string> problems)
    {
        if (ratio is < 0)
        {
            problems.Add($"seedRatioLimit: must be 0 or more, not {TorrentFields.Format(ratio.Value)}");
            return s;
        }
        return limited switch
        {
            true => s with { SeedRatioLimit = ratio ?? s.SeedRatioLimit ?? s.SeedRatioLimitWhenOn, SeedRatioLimitWhenOn = ratio ?? s.SeedRatioLimit ?? s.SeedRatioLimitWhenOn },
            false => s with { SeedRatioLimit = null, SeedRatioLimitWhenOn = ratio ?? s.SeedRatioLimit ?? s.SeedRatioLimitWhenOn },
            _ when ratio is { } r => s.SeedRatioLimit is null ? s with { SeedRatioLimitWhenOn = r } : s with { SeedRatioLimit = r, SeedRatioLimitWhenOn = r },
            _ => s,
        };
    }

    /// <summary>
    /// download-queue-enabled/size, seed-queue-enabled/size, queue-stalled-enabled/minutes onto the queue settings
    /// (applied live: queued torrents start or running ones are queued again at once). A size is kept while its queue
    /// is off, as Transmission keeps it.
    /// </summary>
    /// <summary>idle-seeding-limit(-enabled) (Transmission's), seeding-time-limit(-enabled), min-seeding-time, seeding-limit-action (RTorrent's).</summary>
    private static EngineSettings SeedingRules(EngineSettings s, Dictionary<string, object> values, List<string> problems)
    {
        const int max = Engine.Client.SeedingRules.MaxMinutes;
        if (Get<bool>(values, "idle-seeding-limit-enabled") is { } idleOn) s = s with { IdleSeedingLimitEnabled = idleOn };
        if (Get<bool>(values, "seeding-time-limit-enabled") is { } timeOn) s = s with { SeedingTimeLimitEnabled = timeOn };
        if (Get<long>(values, "idle-seeding-limit") is { } idle)
        {
            if (idle is < 1 or > max) problems.Add($"idle-seeding-limit: must be 1-{max} minutes, not {idle}");
            else s = s with { IdleSeedingLimit = (int)idle };
        }
        if (Get<long>(values, "seeding-time-limit") is { } time)
        {
            if (time is < 1 or > max) problems.Add($"seeding-time-limit: must be 1-{max} minutes, not {time}");
            else s = s with { SeedingTimeLimit = (int)time };
        }
        if (Get<long>(values, "min-seeding-time") is { } min)
        {
            if (min is < 0 or > max) problems.Add($"min-seeding-time: must be 0 (none) to {max} minutes, not {min}");
            else s = s with { MinSeedingTime = (int)min };
        }
        if (values.TryGetValue("seeding-limit-action", out var action))
        {
            if (SessionFields.ParseAction((string)action) is { } a) s = s with { SeedingLimitAction = a };
            else problems.Add($"seeding-limit-action: must be stop, remove or removeWithData, not '{action}'");
        }
        return s;
    }

    private static EngineSettings Queue(EngineSettings s, Dictionary<string, object> values, List<string> problems)
    {
        if (Get<bool>(values, "download-queue-enabled") is { } down) s = s with { DownloadQueueEnabled = down };
        if (Get<bool>(values, "seed-queue-enabled") is { } seed) s = s with { SeedQueueEnabled = seed };
        if (Get<bool>(values, "queue-stalled-enabled") is { } stalled) s = s with { QueueStalledEnabled = stalled };
        if (Get<long>(values, "download-queue-size") is { } downSize)
        {
            if (downSize is < 0 or > 100_000) problems.Add($"download-queue-size: must be 0-100000, not {downSize}");
            else s = s with { DownloadQueueSize = (int)downSize };
        }
        if (Get<long>(values, "seed-queue-size") is { } seedSize)
        {
            if (seedSize is < 0 or > 100_000) problems.Add($"seed-queue-size: must be 0-100000, not {seedSize}");
            else s = s with { SeedQueueSize = (int)seedSize };
        }
        if (Get<long>(values, "queue-stalled-minutes") is { } minutes)
        {
            if (minutes is < 1 or > 525_600) problems.Add($"queue-stalled-minutes: must be 1-525600, not {minutes}");
            else s = s with { QueueStalledMinutes = (int)minutes };
        }
        return s;
    }

    /// <summary>
    /// peer-port and peer-port-random-on-start onto listenPort, where 0 already means "any free port at each start":
    /// random on is 0; random off keeps the port in use (or the one given). Both apply at the next start.
    /// </summary>
    private static EngineSettings Port(EngineSettings s, long? port, bool? random, int engineListenPort, List<string> problems)
    {
        if (port is { } p && p is < 1 or > 65535)
        {
            problems.Add($"peer-port: must be 1-65535, not {p}");
            port = null;
        }
        switch (random)
        {
            case true:
                if (port is not null) problems.Add("peer-port: with peer-port-random-on-start true the port is chosen at each start; set one or the other");
                return s with { ListenPort = 0 };
            case false:
                int keep = (int)(port ?? (s.ListenPort != 0 ? s.ListenPort : engineListenPort));
                return keep is >= 1 and <= 65535 ? s with { ListenPort = keep } : s;
            default:
                return port is { } given ? s with { ListenPort = (int)given } : s;
        }
    }
}
