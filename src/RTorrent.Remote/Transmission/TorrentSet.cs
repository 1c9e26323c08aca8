using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// <c>torrent-set</c>: limits, peer limit, seed ratio, wanted files and priorities, labels, trackers (trackerList and
/// the deprecated trackerAdd/Remove/Replace), queue position, location and RTorrent's own superSeeding, for each torrent <c>ids</c> names. All
/// arguments are read first (a wrong type refuses the call before anything changes); then what can be applied is,
/// and what cannot (a setting RTorrent does not have, a value it cannot keep, an unknown id) is named in the error
/// result: never a silent no-op.
/// </summary>
internal sealed class TorrentSet(TransmissionContext context, TorrentIds ids, Relocations relocations)
{
    private sealed class Request
    {
        public long? BandwidthPriority;
        public string? Group;
        public List<string>? Labels;
        public List<long>? FilesWanted, FilesUnwanted, PriorityHigh, PriorityLow, PriorityNormal;
        public long? PeerLimit;
        public long? DownloadLimit, UploadLimit;
        public bool? DownloadLimited, UploadLimited, HonorsSessionLimits;
        public long? SeedIdleLimit, SeedIdleMode, SeedRatioMode, QueuePosition;
        public long? SeedingTimeLimit, SeedingTimeMode, MinSeedingTime;
        public double? SeedRatioLimit;
        public List<string>? TrackerAdd;
        public List<long>? TrackerRemove;
        public List<(long Id, string Url)>? TrackerReplace;
        public string? TrackerList;
        public string? Location;
        public bool? SuperSeeding;

        public bool HasFiles => FilesWanted is not null || FilesUnwanted is not null || PriorityHigh is not null || PriorityLow is not null ||
                                PriorityNormal is not null;

        public bool HasTrackers => TrackerAdd is not null || TrackerRemove is not null || TrackerReplace is not null || TrackerList is not null;
    }

    public async Task<string> RunAsync(Arguments args)
    {
        var request = Read(args);
        var (_, torrents, unknown) = await IdSelection.ResolveAsync(args, context, ids).ConfigureAwait(false);
        var problems = new List<string>();
        if (request.BandwidthPriority is { } bp && bp != 0) problems.Add(BandwidthPriorityRefusal(bp));
        if (request.HonorsSessionLimits == false)
            problems.Add("honorsSessionLimits: a torrent always honours the session's limits in RTorrent (its limiter is the session's child)");
        foreach (var t in torrents)
        {
            try
            {
                await ApplyAsync(t, request, problems).ConfigureAwait(false);
            }
            catch (Exception e) when (TransmissionRpcHandler.IsRefusal(e))
            {
                problems.Add($"{t.Name}: {e.Message}");
            }
        }
        if (unknown.Count > 0) problems.Add(IdSelection.UnknownMessage(unknown));
        context.Journal.Invalidate();
        return problems.Count == 0 ? "success" : string.Join("; ", problems.Distinct());
    }

    private static Request Read(Arguments args)
    {
        var r = new Request();
        if (args.TryGetLong("bandwidthPriority", out long bp)) r.BandwidthPriority = bp;
        if (args.TryGetString("group", out var group))
        {
            r.Group = group.Trim();
            if (r.Group.Length > 0)
            {
                try { r.Group = CategoryNames.Normalize(r.Group); }
                catch (ArgumentException e) { throw new RpcException($"group: {e.Message}"); }
            }
        }
        if (args.TryGetStringList("labels", out var labels)) r.Labels = labels;
        if (args.TryGetLongList("files-wanted", out var l1)) r.FilesWanted = l1;
        if (args.TryGetLongList("files-unwanted", out var l2)) r.FilesUnwanted = l2;
        if (args.TryGetLongList("priority-high", out var l3)) r.PriorityHigh = l3;
        if (args.TryGetLongList("priority-low", out var l4)) r.PriorityLow = l4;
        if (args.TryGetLongList("priority-normal", out var l5)) r.PriorityNormal = l5;
        if (args.TryGetLong("peer-limit", out long peers)) r.PeerLimit = peers;
        if (args.TryGetLong("downloadLimit", out long dl)) r.DownloadLimit = dl;
        if (args.TryGetLong("uploadLimit", out long ul)) r.UploadLimit = ul;
        if (args.TryGetBool("downloadLimited", out bool dld)) r.DownloadLimited = dld;
        if (args.TryGetBool("uploadLimited", out bool uld)) r.UploadLimited = uld;
        if (args.TryGetBool("honorsSessionLimits", out bool honors)) r.HonorsSessionLimits = honors;
        if (args.TryGetLong("seedIdleLimit", out long idle)) r.SeedIdleLimit = idle;
        if (args.TryGetLong("seedIdleMode", out long idleMode)) r.SeedIdleMode = idleMode;
        if (args.TryGetDouble("seedRatioLimit", out double ratio)) r.SeedRatioLimit = ratio;
        if (args.TryGetLong("seedRatioMode", out long ratioMode)) r.SeedRatioMode = ratioMode;
        if (args.TryGetLong("queuePosition", out long position)) r.QueuePosition = position;
        if (args.TryGetLong("seedingTimeLimit", out long timeLimit)) r.SeedingTimeLimit = timeLimit; // RTorrent's own
        if (args.TryGetLong("seedingTimeMode", out long timeMode)) r.SeedingTimeMode = timeMode;
        if (args.TryGetLong("minSeedingTime", out long minTime)) r.MinSeedingTime = minTime;
        if (args.TryGetStringList("trackerAdd", out var add)) r.TrackerAdd = add;
        if (args.TryGetLongList("trackerRemove", out var remove)) r.TrackerRemove = remove;
        if (args.TryGet("trackerReplace", out var replace))
        {
            // [id, url, id, url, ...]
            if (replace.ValueKind != System.Text.Json.JsonValueKind.Array)
                throw new RpcException("'trackerReplace' must be a list of tracker ids and URLs: [id, url, id, url, ...]");
            var items = replace.EnumerateArray().ToList();
            r.TrackerReplace = [];
            for (int i = 0; i + 1 < items.Count; i += 2)
            {
                if (!Arguments.ToLong(items[i], out long id) || items[i + 1].ValueKind != System.Text.Json.JsonValueKind.String)
                    throw new RpcException("'trackerReplace' must be a list of tracker ids and URLs: [id, url, id, url, ...]");
                r.TrackerReplace.Add((id, items[i + 1].GetString()!));
            }
        }
        if (args.TryGetString("trackerList", out var list)) r.TrackerList = list;
        if (args.TryGetBool("superSeeding", out bool superSeeding)) r.SuperSeeding = superSeeding; // RTorrent's own (BEP 16)
        if (args.TryGetString("location", out var location))
        {
            if (!Path.IsPathFullyQualified(location)) throw new RpcException("new location path is not absolute");
            r.Location = location;
        }
        if (r.Labels is not null) CheckLabels(r.Labels);
        return r;
    }

    private async Task ApplyAsync(Torrent t, Request r, List<string> problems)
    {
        if (r.Labels is not null) await t.SetLabelsAsync(CheckLabels(r.Labels)).ConfigureAwait(false);
        // The category (Transmission 4's group): set, and the data moved to its folder (answered within the relocation wait).
        if (r.Group is { } category && category != (t.Category ?? "")
            && await relocations.RunAsync(t, context.Session.SetCategoryAsync(t, category.Length == 0 ? null : category), "moving to its category's folder")
                .ConfigureAwait(false) is { } notMoved)
            problems.Add(notMoved);
        if (r.HasFiles) await ApplyFilesAsync(t, r, problems).ConfigureAwait(false);
        if (r.PeerLimit is { } peers)
        {
            if (peers is < 1 or > int.MaxValue) problems.Add($"peer-limit must be 1 or more, not {peers}");
            else await t.SetMaxConnectionsAsync((int)peers).ConfigureAwait(false);
        }
        long down = Limit(t.DownloadLimit, r.DownloadLimit, r.DownloadLimited, "download", problems);
        long up = Limit(t.UploadLimit, r.UploadLimit, r.UploadLimited, "upload", problems);
        if (down != t.DownloadLimit || up != t.UploadLimit) await t.SetRateLimitsAsync(down, up).ConfigureAwait(false);
        if (r.SeedRatioMode is not null || r.SeedRatioLimit is not null) await ApplySeedRatioAsync(t, r, problems).ConfigureAwait(false);
        var settings = context.Settings.Current;
        if (r.SeedIdleMode is not null || r.SeedIdleLimit is not null)
            await ApplyMinutesLimitAsync("seedIdle", t.SeedIdleMode, t.SeedIdleLimit, r.SeedIdleMode, r.SeedIdleLimit, settings.IdleSeedingLimit,
                t.SetSeedIdleAsync, problems).ConfigureAwait(false);
        if (r.SeedingTimeMode is not null || r.SeedingTimeLimit is not null)
            await ApplyMinutesLimitAsync("seedingTime", t.SeedingTimeMode, t.SeedingTimeLimit, r.SeedingTimeMode, r.SeedingTimeLimit,
                settings.SeedingTimeLimit, t.SetSeedingTimeLimitAsync, problems).ConfigureAwait(false);
        if (r.MinSeedingTime is { } min)
        {
            if (min is < -1 or > Engine.Client.SeedingRules.MaxMinutes)
                problems.Add($"minSeedingTime must be -1 (the session's) or 0-{Engine.Client.SeedingRules.MaxMinutes} minutes, not {min}");
            else await t.SetMinSeedingTimeAsync(min < 0 ? null : (int)min).ConfigureAwait(false);
        }
        if (r.QueuePosition is { } position)
        {
            if (position < 0) problems.Add($"queuePosition must be 0 or more, not {position}");
            else await context.Session.Engine.SetQueuePositionAsync(t, (int)Math.Min(position, int.MaxValue)).ConfigureAwait(false);
        }
        if (r.HasTrackers) await ApplyTrackersAsync(t, r, problems).ConfigureAwait(false);
        if (r.SuperSeeding is { } superSeeding) await t.SetSuperSeedingAsync(superSeeding).ConfigureAwait(false);
        if (r.Location is { } location && await relocations.SetLocationAsync(t, location, move: false).ConfigureAwait(false) is { } failed)
            problems.Add(failed);
    }

    /// <summary>
    /// The torrent's new limit in bytes/s from Transmission's pair (limit in kB/s, limited). The engine keeps one number
    /// (0 = none), so a limit that is off cannot be kept: a value given with the limit off, or for a limit that is off,
    /// is refused rather than dropped; so is 0 kB/s while on (Transmission would stop the transfer; RTorrent cannot).
    /// </summary>
    private static long Limit(long current, long? kbps, bool? limited, string direction, List<string> problems)
    {
        string key = direction + "Limit";
        if (kbps is < 0)
        {
            problems.Add($"{key} must be 0 or more kB/s, not {kbps}");
            return current;
        }
        long? bytes = kbps * Units.SpeedK;
        switch (limited)
        {
            case false:
                if (bytes is > 0) problems.Add($"{key} {kbps}: RTorrent keeps no {direction} limit while it is off ({direction}Limited false); it was switched off and the value dropped");
                return 0;
            case true:
                long value = bytes ?? current;
                if (value > 0) return value;
                problems.Add(bytes is null
                    ? $"{direction}Limited: the torrent has no {direction} limit to switch on; give {key} (kB/s) with it"
                    : $"{key} 0: a limit of 0 kB/s would stop the {direction} entirely, which RTorrent cannot do; stop the torrent instead");
                return current;
            default:
                if (bytes is null) return current;
                if (current > 0)
                {
                    if (bytes > 0) return bytes.Value;
                    problems.Add($"{key} 0: a limit of 0 kB/s would stop the {direction} entirely, which RTorrent cannot do; switch the limit off with {direction}Limited false");
                    return current;
                }
                if (bytes > 0)
                    problems.Add($"{key} {kbps}: the torrent's {direction} limit is off and RTorrent keeps no limit while it is off; send {direction}Limited true with it");
                return current;
        }
    }

    private async Task ApplySeedRatioAsync(Torrent t, Request r, List<string> problems)
    {
        if (r.SeedRatioLimit is < 0)
        {
            problems.Add($"seedRatioLimit must be 0 or more, not {TorrentFields.Format(r.SeedRatioLimit.Value)}");
            return;
        }
        SeedRatioMode mode = t.SeedRatioMode;
        if (r.SeedRatioMode is { } m)
        {
            if (m is < 0 or > 2)
            {
                problems.Add($"seedRatioMode must be 0 (the session's), 1 (the torrent's own) or 2 (unlimited), not {m}");
                return;
            }
            mode = (SeedRatioMode)m;
        }
        double? limit = r.SeedRatioLimit;
        if (mode == SeedRatioMode.Custom && limit is null && t.SeedRatioLimit is null)
        {
            // A torrent's own limit starts as the session's, as in Transmission.
            var s = context.Settings.Current;
            limit = s.SeedRatioLimit ?? s.SeedRatioLimitWhenOn;
        }
        await t.SetSeedRatioAsync(mode, limit).ConfigureAwait(false);
    }

    /// <summary>
    /// A (mode, limit in minutes) pair as Transmission's seedIdleMode/seedIdleLimit: mode 0 the session's, 1 the
    /// torrent's own, 2 none; a limit given alone is kept for mode 1. Mode 1 without any own limit starts from the
    /// session's value, as Transmission's does.
    /// </summary>
    private static async Task ApplyMinutesLimitAsync(string name, SeedRatioMode current, int? currentLimit, long? mode, long? limit,
        int sessionValue, Func<SeedRatioMode, int?, Task> set, List<string> problems)
    {
        if (limit is { } l && (l < 1 || l > Engine.Client.SeedingRules.MaxMinutes))
        {
            problems.Add($"{name}Limit must be 1-{Engine.Client.SeedingRules.MaxMinutes} minutes, not {l}");
            return;
        }
        var m = current;
        if (mode is { } given)
        {
            if (given is < 0 or > 2)
            {
                problems.Add($"{name}Mode must be 0 (the session's), 1 (the torrent's own) or 2 (unlimited), not {given}");
                return;
            }
            m = (SeedRatioMode)given;
        }
        int? minutes = (int?)limit;
        if (m == SeedRatioMode.Custom && minutes is null && currentLimit is null) minutes = sessionValue;
        await set(m, minutes).ConfigureAwait(false);
    }

    /// <summary>Wanted files and priorities, in Transmission's order: unwanted, wanted, then low, normal, high priorities.</summary>
    private async Task ApplyFilesAsync(Torrent t, Request r, List<string> problems)
    {
        var engine = context.Session.Engine;
        var details = (await engine.GetDetailsAsync([t]).ConfigureAwait(false))[0];
        var files = details.Files; // the files a client sees, in its order
        int n = files.Count;
        var wanted = files.Select(f => f.Priority != Priority.Skip).ToArray();
        var priority = files.Select(f => f.Priority == Priority.Skip ? Priority.Normal : f.Priority).ToArray();
        var explicitPriority = new bool[n];
        bool outOfRange = false;
        IEnumerable<int> Targets(List<long>? list)
        {
            if (list is null) yield break;
            if (list.Count == 0)
            {
                // An empty list is shorthand for every file.
                for (int i = 0; i < n; i++) yield return i;
                yield break;
            }
            foreach (long i in list)
            {
                if (i >= 0 && i < n) yield return (int)i;
                else outOfRange = true;
            }
        }
        foreach (int i in Targets(r.FilesUnwanted)) wanted[i] = false;
        foreach (int i in Targets(r.FilesWanted)) wanted[i] = true;
        foreach (var (list, p) in new[] { (r.PriorityLow, Priority.Low), (r.PriorityNormal, Priority.Normal), (r.PriorityHigh, Priority.High) })
            foreach (int i in Targets(list))
            {
                priority[i] = p;
                explicitPriority[i] = p != Priority.Normal;
            }
        if (outOfRange) problems.Add("file index out of range");
        var lost = Enumerable.Range(0, n).Where(i => !wanted[i] && explicitPriority[i]).ToList();
        if (lost.Count > 0) problems.Add(UnwantedPriorityRefusal(lost));
        var changes = new List<(int, Priority)>();
        for (int i = 0; i < n; i++)
        {
            var now = wanted[i] ? priority[i] : Priority.Skip;
            if (now != files[i].Priority) changes.Add((files[i].Index, now));
        }
        if (changes.Count > 0) await t.SetFilePrioritiesAsync(changes).ConfigureAwait(false);
    }

    /// <summary>trackerAdd, trackerRemove, trackerReplace, then trackerList, on a copy of the list; one change for the torrent.</summary>
    private static async Task ApplyTrackersAsync(Torrent t, Request r, List<string> problems)
    {
        var flat = Trackers.Flatten(t.Trackers);
        const string unchanged = "error setting announce list";
        if (r.TrackerAdd is { } add)
        {
            int before = flat.Count;
            int tier = flat.Count == 0 ? 0 : flat.Max(x => x.Tier) + 1;
            foreach (var url in add.Select(u => u.Trim()))
                if (url.Length > 0 && !flat.Any(x => x.Url == url)) flat.Add((url, tier++));
            if (flat.Count == before) problems.Add($"trackerAdd: {unchanged} (the trackers are already there)");
        }
        if (r.TrackerRemove is { } remove)
        {
            var drop = remove.Where(id => id >= 0 && id < flat.Count).Select(id => (int)id).ToHashSet();
            if (drop.Count == 0) problems.Add($"trackerRemove: {unchanged} (no tracker has id {string.Join(", ", remove)})");
            flat = flat.Where((_, i) => !drop.Contains(i)).ToList();
        }
        if (r.TrackerReplace is { } replace)
        {
            bool changed = false;
            foreach (var (id, url) in replace)
                if (id >= 0 && id < flat.Count && flat[(int)id].Url != url.Trim())
                {
                    flat[(int)id] = (url.Trim(), flat[(int)id].Tier);
                    changed = true;
                }
            if (!changed) problems.Add($"trackerReplace: {unchanged}");
        }
        List<List<string>> tiers = Trackers.Unflatten(flat);
        if (r.TrackerList is { } list) tiers = Trackers.ParseTrackerList(list);
        try
        {
            await t.SetTrackersAsync(tiers).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            problems.Add($"Invalid tracker list: {e.Message}");
        }
    }

    /// <summary>Labels checked with Transmission's messages; tidied (trimmed, duplicates dropped).</summary>
    public static IReadOnlyList<string> CheckLabels(IEnumerable<string> labels)
    {
        foreach (var raw in labels)
        {
            var label = raw.Trim();
            if (label.Length == 0) throw new RpcException("labels cannot be empty");
            if (label.Contains(',')) throw new RpcException("labels cannot contain comma (,) character");
        }
        return TorrentLabels.Normalize(labels);
    }

    public static string BandwidthPriorityRefusal(long value) =>
        $"bandwidthPriority {value}: RTorrent has no bandwidth priorities; every torrent is normal (0)";

    public static string UnwantedPriorityRefusal(IReadOnlyList<int> files) =>
        $"file{(files.Count == 1 ? "" : "s")} {string.Join(", ", files)} {(files.Count == 1 ? "is" : "are")} not wanted: RTorrent keeps no " +
        "priority for a file it does not download (make it wanted first, or with files-wanted in the same request)";
}
