using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// A request's <c>ids</c> (Transmission's getTorrents): absent for every torrent; a number; a list of numbers and
/// info-hash strings; a single info-hash string; or <c>"recently-active"</c>. Like Transmission, <c>id</c> (a number)
/// is read when <c>ids</c> is absent.
/// </summary>
internal sealed class IdSelection
{
    /// <summary>The string that selects torrents active in the last minute.</summary>
    public const string RecentlyActiveName = "recently-active";

    /// <summary>Transmission's window for recently-active torrents and removals (RecentlyActiveSeconds).</summary>
    public static readonly TimeSpan RecentlyActiveWindow = TimeSpan.FromSeconds(60);

    private IdSelection(bool all, bool recentlyActive, IReadOnlyList<object> items)
    {
        IsAll = all;
        IsRecentlyActive = recentlyActive;
        Items = items;
    }

    /// <summary>Every torrent.</summary>
    public bool IsAll { get; }

    /// <summary><c>"recently-active"</c>.</summary>
    public bool IsRecentlyActive { get; }

    /// <summary>The listed ids (<see cref="long"/>) and info-hashes (<see cref="string"/>), in request order.</summary>
    public IReadOnlyList<object> Items { get; }

    /// <summary>Reads <c>ids</c> from <paramref name="args"/>.</summary>
    /// <exception cref="RpcException">It is neither of the forms above.</exception>
    public static IdSelection Parse(Arguments args)
    {
        if (!args.TryGet("ids", out var ids))
        {
            if (args.TryGet("id", out var id) && Arguments.ToLong(id, out long single)) return new(false, false, [single]);
            return new(true, false, []);
        }
        switch (ids.ValueKind)
        {
            case JsonValueKind.String:
                string s = ids.GetString()!;
                return s == RecentlyActiveName ? new(false, true, []) : new(false, false, [s]);
            case JsonValueKind.Array:
                var items = new List<object>();
                foreach (var item in ids.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String) items.Add(item.GetString()!);
                    else if (Arguments.ToLong(item, out long n) && item.ValueKind == JsonValueKind.Number) items.Add(n);
                    else throw new RpcException($"'ids' must list torrent ids (numbers) and info-hashes (strings); {item.GetRawText()} is neither");
                }
                return new(false, false, items);
            case JsonValueKind.Number when Arguments.ToLong(ids, out long one):
                return new(false, false, [one]);
            case JsonValueKind.Null:
                return new(true, false, []);
            default:
                throw new RpcException($"'ids' must be a torrent id, a list of ids and info-hashes, or \"{RecentlyActiveName}\"; {ids.GetRawText()} is none of them");
        }
    }

    /// <summary>How an item is named in messages.</summary>
    public static string Describe(object item) => item is long id ? $"id {id}" : $"'{item}'";

    /// <summary>
    /// The torrents the selection names that are in the session, each once, in request order (every torrent: by id),
    /// and the items that name none. <paramref name="recentlyActive"/> gives the info-hashes active in the last minute.
    /// </summary>
    public (List<Torrent> Found, List<object> Unknown) Resolve(ClientEngine engine, TorrentIds ids, IReadOnlyCollection<string>? recentlyActive = null)
    {
        var found = new List<Torrent>();
        var unknown = new List<object>();
        if (IsAll || IsRecentlyActive)
        {
            var active = IsRecentlyActive ? new HashSet<string>(recentlyActive ?? [], StringComparer.OrdinalIgnoreCase) : null;
            var byId = new List<(int Id, Torrent Torrent)>();
            foreach (var t in engine.Torrents)
            {
                string hash = t.InfoHash.ToHex();
                if (active is null || active.Contains(hash)) byId.Add((ids.GetOrAssign(hash), t));
            }
            byId.Sort((a, b) => a.Id.CompareTo(b.Id));
            found.AddRange(byId.Select(x => x.Torrent));
            return (found, unknown);
        }
        var seen = new HashSet<Torrent>(ReferenceEqualityComparer.Instance);
        foreach (var item in Items)
        {
            Torrent? t = item switch
            {
                long id when ids.TryGetHash(id, out var hash) => engine.Find(hash),
                string hash => engine.Find(hash),
                _ => null,
            };
            if (t is null) unknown.Add(item);
            else if (seen.Add(t)) found.Add(t);
        }
        return (found, unknown);
    }

    /// <summary>The refusal for items that name no torrent: "no torrent with id 7" / "no torrents with id 7, 'abc'".</summary>
    public static string UnknownMessage(IReadOnlyList<object> unknown) =>
        unknown.Count == 1 ? $"no torrent with {Describe(unknown[0])}" : $"no torrents with {string.Join(", ", unknown.Select(Describe))}";

    /// <summary>Resolves <c>ids</c> of <paramref name="args"/> against the session (recently-active from the journal).</summary>
    public static async Task<(IdSelection Selection, List<Torrent> Found, List<object> Unknown)> ResolveAsync(Arguments args,
        TransmissionContext context, TorrentIds ids)
    {
        var selection = Parse(args);
        IReadOnlyCollection<string>? active = null;
        if (selection.IsRecentlyActive) active = (await context.Journal.GetAsync().ConfigureAwait(false)).ChangedWithin(RecentlyActiveWindow).ToList();
        var (found, unknown) = selection.Resolve(context.Session.Engine, ids, active);
        return (selection, found, unknown);
    }
}
