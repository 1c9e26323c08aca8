using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// <c>torrent-get</c>. Fields the snapshot holds are written in one pass over the journal's snapshot list, straight
/// into the response (10,000 torrents with the web client's fields well under 100 ms); fields that need more
/// (files, peers, trackerStats, pieces, availability) are read from the engine in one loop call for just the torrents
/// asked. Unknown fields are left out and unknown ids skipped, as Transmission does.
/// </summary>
internal sealed class TorrentGet(TransmissionContext context, TorrentIds ids)
{
    private static readonly JsonEncodedText TorrentsKey = JsonEncodedText.Encode("torrents");
    private static readonly JsonEncodedText RemovedKey = JsonEncodedText.Encode("removed");

    private readonly Lock _indexLock = new();
    private SnapshotJournal.View? _indexedView;
    private Dictionary<string, TorrentSnapshot>? _index;

    public async Task RunAsync(Arguments args, Utf8JsonWriter w, CancellationToken cancellationToken)
    {
        var fields = ReadFields(args, out var needs);
        bool table = args.TryGetString("format", out var format) && format == "table";
        var selection = IdSelection.Parse(args);
        var view = await context.Journal.GetAsync(cancellationToken).ConfigureAwait(false);
        var rows = Select(view, selection);
        var settings = context.Settings.Current;
        var scope = new FieldScope
        {
            Now = context.Time.GetUtcNow(),
            SessionSeedRatio = settings.SeedRatioLimit,
            SessionSeedRatioShown = settings.SeedRatioLimit ?? settings.SeedRatioLimitWhenOn,
            SessionIdleShown = settings.IdleSeedingLimit,
            SessionIdleLimit = settings.SeedingRules.IdleLimitMinutes,
            SessionMinSeedingTime = settings.MinSeedingTime,
            SessionSeedingTimeShown = settings.SeedingTimeLimit,
            SessionDirectory = context.Session.SessionDirectory,
        };
        TorrentRow?[]? full = null;
        if (needs != FieldNeeds.Snapshot && rows.Count > 0) full = await ReadMoreAsync(rows, needs).ConfigureAwait(false);

        w.WriteStartObject();
        w.WritePropertyName(TorrentsKey);
        w.WriteStartArray();
        if (table)
        {
            w.WriteStartArray();
            foreach (var f in fields) w.WriteStringValue(f.EncodedName);
            w.WriteEndArray();
        }
        var row = new TorrentRow { Snapshot = null! };
        for (int i = 0; i < rows.Count; i++)
        {
            TorrentRow r;
            if (full is not null)
            {
                if (full[i] is not { } read) continue; // removed while we read it
                r = read;
            }
            else
            {
                row.Snapshot = rows[i].Snapshot;
                row.Id = rows[i].Id;
                r = row;
            }
            if (table)
            {
                w.WriteStartArray();
                foreach (var f in fields) f.Write(w, r, scope);
                w.WriteEndArray();
            }
            else
            {
                w.WriteStartObject();
                foreach (var f in fields)
                {
                    w.WritePropertyName(f.EncodedName);
                    f.Write(w, r, scope);
                }
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        if (selection.IsRecentlyActive)
        {
            w.WritePropertyName(RemovedKey);
            w.WriteStartArray();
            foreach (int id in ids.RemovedWithin(IdSelection.RecentlyActiveWindow)) w.WriteNumberValue(id);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>The requested fields Transmission knows, once each, in request order; "no fields specified" without a list.</summary>
    private static List<TorrentField> ReadFields(Arguments args, out FieldNeeds needs)
    {
        needs = FieldNeeds.Snapshot;
        if (!args.TryGet("fields", out var list) || list.ValueKind != JsonValueKind.Array) throw new RpcException("no fields specified");
        var fields = new List<TorrentField>();
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !TorrentFields.All.TryGetValue(item.GetString()!, out var field)) continue;
            if (fields.Contains(field)) continue;
            fields.Add(field);
            needs |= field.Needs;
        }
        return fields;
    }

    private readonly record struct Selected(TorrentSnapshot Snapshot, int Id);

    /// <summary>The selected snapshots with their ids: every torrent and recently-active ones by id, listed ones in request order.</summary>
    private List<Selected> Select(SnapshotJournal.View view, IdSelection selection)
    {
        var torrents = view.Session.Torrents;
        var rows = new List<Selected>(selection.IsAll ? torrents.Count : Math.Max(4, selection.Items.Count));
        if (selection.IsAll || selection.IsRecentlyActive)
        {
            var numbers = new int[torrents.Count];
            ids.GetOrAssign(torrents, numbers, hash => context.Session.Engine.Find(hash) is not null);
            HashSet<string>? active = selection.IsRecentlyActive
                ? new HashSet<string>(view.ChangedWithin(IdSelection.RecentlyActiveWindow), StringComparer.Ordinal)
                : null;
            for (int i = 0; i < torrents.Count; i++)
                if (numbers[i] > 0 && (active is null || active.Contains(torrents[i].Id))) rows.Add(new Selected(torrents[i], numbers[i]));
            rows.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            return rows;
        }
        var index = IndexOf(view);
        var seen = new HashSet<int>();
        foreach (var item in selection.Items)
        {
            string? hash = item switch
            {
                long id => ids.TryGetHash(id, out var h) ? h : null,
                string h => h,
                _ => null,
            };
            if (hash is null || !index.TryGetValue(hash, out var snapshot)) continue;
            int number = ids.GetOrAssign(snapshot.Id);
            if (seen.Add(number)) rows.Add(new Selected(snapshot, number));
        }
        return rows;
    }

    /// <summary>The view's snapshots by info-hash, made once per view.</summary>
    private Dictionary<string, TorrentSnapshot> IndexOf(SnapshotJournal.View view)
    {
        lock (_indexLock)
        {
            if (ReferenceEquals(_indexedView, view) && _index is not null) return _index;
            var index = new Dictionary<string, TorrentSnapshot>(view.Session.Torrents.Count, StringComparer.OrdinalIgnoreCase);
            foreach (var t in view.Session.Torrents) index[t.Id] = t;
            (_indexedView, _index) = (view, index);
            return index;
        }
    }

    /// <summary>Details, availability and the engine's torrent for the rows, in one loop call each; null for a torrent gone meanwhile.</summary>
    private async Task<TorrentRow?[]> ReadMoreAsync(List<Selected> rows, FieldNeeds needs)
    {
        var engine = context.Session.Engine;
        var result = new TorrentRow?[rows.Count];
        var torrents = new List<Torrent>(rows.Count);
        var at = new List<int>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            if (engine.Find(rows[i].Snapshot.Id) is not { } t) continue;
            result[i] = new TorrentRow { Snapshot = rows[i].Snapshot, Id = rows[i].Id, Torrent = t };
            torrents.Add(t);
            at.Add(i);
        }
        if (needs.HasFlag(FieldNeeds.Details))
        {
            var details = await engine.GetDetailsAsync(torrents).ConfigureAwait(false);
            for (int k = 0; k < details.Count; k++)
            {
                result[at[k]]!.Details = details[k];
                result[at[k]]!.Snapshot = details[k].Summary;
            }
        }
        if (needs.HasFlag(FieldNeeds.Availability))
        {
            var availability = await engine.GetPieceAvailabilityAsync(torrents).ConfigureAwait(false);
            for (int k = 0; k < availability.Count; k++) result[at[k]]!.Availability = availability[k];
        }
        return result;
    }
}
