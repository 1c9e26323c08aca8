using RTorrent.Engine.Client;

namespace RTorrent.Remote.Transmission;

/// <summary>Transmission's conventions for numbers in the RPC (libtransmission's transmission.h and utils).</summary>
internal static class Units
{
    /// <summary>Bytes in a kB of the RPC's speed limits (Transmission 4's tr_speed_K): KBps × 1000 = bytes/s.</summary>
    public const long SpeedK = 1000;

    /// <summary>Bytes in a MB of <c>cache-size-mb</c> (Transmission's tr_mem_K is 1024).</summary>
    public const long MemoryMB = 1024 * 1024;

    /// <summary>tr_stat eta: not available (not downloading, or seeding without a ratio goal).</summary>
    public const long EtaNotAvailable = -1;

    /// <summary>tr_stat eta: unknown (no transfer to estimate from).</summary>
    public const long EtaUnknown = -2;

    /// <summary>tr_getRatio: no ratio (nothing moved).</summary>
    public const double RatioNotAvailable = -1;

    /// <summary>tr_getRatio: infinite (uploaded without downloading).</summary>
    public const double RatioInfinite = -2;

    /// <summary>tr_torrent_activity.</summary>
    public const int StatusStopped = 0, StatusCheckWait = 1, StatusCheck = 2, StatusDownloadWait = 3, StatusDownload = 4,
        StatusSeedWait = 5, StatusSeed = 6;

    /// <summary>tr_stat_errtype.</summary>
    public const int ErrorNone = 0, ErrorTrackerWarning = 1, ErrorTrackerError = 2, ErrorLocal = 3;

    /// <summary>Unix seconds, 0 for never (Transmission's dates).</summary>
    public static long UnixSeconds(DateTimeOffset? time) => time is { } t && t.ToUnixTimeSeconds() > 0 ? t.ToUnixTimeSeconds() : 0;

    /// <summary>libtransmission's tr_getRatio: numerator / denominator, -2 (infinite) when only the numerator moved, -1 when neither did.</summary>
    public static double Ratio(long numerator, long denominator) =>
        denominator > 0 ? (double)numerator / denominator : numerator > 0 ? RatioInfinite : RatioNotAvailable;

    /// <summary>The RPC's status number for a snapshot.</summary>
    public static int Status(TorrentSnapshot t) => t.State switch
    {
        TorrentState.Checking => StatusCheck,
        // Waiting to seed once it has all it wants: all files skipped counts, a magnet without its metadata does not.
        TorrentState.Queued => t.TotalSize > 0 && t.Done >= t.Size ? StatusSeedWait : StatusDownloadWait,
        TorrentState.FetchingMetadata or TorrentState.Downloading => StatusDownload,
        TorrentState.Seeding => StatusSeed,
        _ => StatusStopped, // stopped, and stopped by an error (error 3 says why)
    };

    /// <summary>
    /// Whether the torrent runs (Transmission's isRunning): downloading, seeding or fetching metadata. A torrent being
    /// checked or waiting in a queue does not run, as in Transmission.
    /// </summary>
    public static bool IsRunning(TorrentSnapshot t) =>
        t.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;

    /// <summary>The RPC's error number: a local error stopped the torrent (3), else what its trackers say (2, 1), else 0.</summary>
    public static int Error(TorrentSnapshot t) =>
        t.State == TorrentState.Error ? ErrorLocal
        : t.TrackerProblem is { } p ? (p.IsError ? ErrorTrackerError : ErrorTrackerWarning)
        : ErrorNone;

    /// <summary>The text that goes with <see cref="Error"/>; empty when there is none.</summary>
    public static string ErrorString(TorrentSnapshot t) =>
        t.State == TorrentState.Error ? t.Error ?? "error" : t.TrackerProblem?.Message ?? "";

    /// <summary>Bytes still needed of the wanted files (leftUntilDone).</summary>
    public static long LeftUntilDone(TorrentSnapshot t) => Math.Max(0, t.Size - t.Done);

    /// <summary>
    /// tr_stat eta: downloading, the wanted bytes left over the download rate (-2 with no rate); seeding towards a
    /// ratio goal, the bytes left to upload over the upload rate (-2 with no rate); otherwise -1.
    /// </summary>
    public static long Eta(TorrentSnapshot t, double? sessionSeedRatio)
    {
        if (t.State is TorrentState.Downloading or TorrentState.FetchingMetadata)
            return t.DownloadRate > 0 && t.State == TorrentState.Downloading ? LeftUntilDone(t) / t.DownloadRate : EtaUnknown;
        if (t.State == TorrentState.Seeding && EffectiveSeedRatio(t, sessionSeedRatio) is { } goal && t.Size > 0)
        {
            long left = (long)Math.Ceiling(goal * t.Size) - t.Uploaded;
            if (left <= 0) return 0;
            return t.UploadRate > 0 ? left / t.UploadRate : EtaUnknown;
        }
        return EtaNotAvailable;
    }

    /// <summary>The seed ratio limit in force for the torrent, or null.</summary>
    /// <summary>
    /// Transmission's etaIdle: for a seeding torrent uploading nothing under an idle limit, the seconds until the limit
    /// stops it (not before its minimum seeding time is over); otherwise -1.
    /// </summary>
    public static long EtaIdle(TorrentSnapshot t, FieldScope scope)
    {
        if (t.State != TorrentState.Seeding || t.UploadRate > 0) return EtaNotAvailable;
        if (SeedingRules.Effective(t.SeedIdleMode, t.SeedIdleLimit, scope.SessionIdleLimit) is not { } minutes) return EtaNotAvailable;
        var now = scope.Now;
        var since = t.StartedAt ?? now;
        if (t.ActivityAt is { } a && a > since) since = a;
        double idleLeft = minutes * 60.0 - Math.Max(0, (now - since).TotalSeconds);
        double minLeft = (t.MinSeedingTime ?? scope.SessionMinSeedingTime) * 60.0 - t.SeedingTime(now).TotalSeconds;
        return (long)Math.Ceiling(Math.Max(0, Math.Max(idleLeft, minLeft)));
    }

    public static double? EffectiveSeedRatio(TorrentSnapshot t, double? sessionSeedRatio) => t.SeedRatioMode switch
    {
        SeedRatioMode.Global => sessionSeedRatio,
        SeedRatioMode.Custom => t.SeedRatioLimit,
        _ => null,
    };

    /// <summary>A rate or limit in bytes/s as the RPC's whole kB/s.</summary>
    public static long ToKBps(long bytesPerSecond) => bytesPerSecond / SpeedK;
}
