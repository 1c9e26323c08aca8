using System.Globalization;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Tui.Hosts;

/// <summary>
/// One host of a <see cref="MultiHostBackend"/> with its torrent ids made unique: an id goes out as
/// <c>"&lt;hostIndex&gt;/&lt;id&gt;"</c> (and every torrent gets <see cref="TorrentSnapshot.Host"/>), and comes back in
/// with the prefix taken off. Everything that is not about a torrent passes through unchanged.
/// </summary>
internal sealed class HostView : ITorrentBackend
{
    private readonly string _prefix;
    private readonly object _gate = new();
    // The last mapping of each torrent: a host that hands out the same snapshot object again (nothing changed) gets
    // the same mapped object back, so a thousand idle torrents cost no copies.
    private Dictionary<string, (TorrentSnapshot Inner, TorrentSnapshot Outer)> _mapped = new(StringComparer.Ordinal);

    public HostView(int index, string name, ITorrentBackend inner)
    {
        Index = index;
        Name = name;
        Inner = inner;
        _prefix = index.ToString(CultureInfo.InvariantCulture) + "/";
    }

    public int Index { get; }
    public string Name { get; }
    public ITorrentBackend Inner { get; }

    public string OuterId(string id) => _prefix + id;

    public bool Owns(string id) => id.StartsWith(_prefix, StringComparison.Ordinal);

    private string InnerId(string id) =>
        Owns(id) ? id[_prefix.Length..] : throw new InvalidOperationException("That torrent is no longer in the session.");

    /// <summary>The host's torrents with merged ids and the host's name.</summary>
    public IReadOnlyList<TorrentSnapshot> Map(IReadOnlyList<TorrentSnapshot> torrents)
    {
        lock (_gate)
        {
            var next = new Dictionary<string, (TorrentSnapshot, TorrentSnapshot)>(torrents.Count, StringComparer.Ordinal);
            var result = new TorrentSnapshot[torrents.Count];
            for (int i = 0; i < torrents.Count; i++)
            {
                TorrentSnapshot t = torrents[i];
                TorrentSnapshot outer = _mapped.TryGetValue(t.Id, out var known) && ReferenceEquals(known.Inner, t) ? known.Outer : Map(t);
                next[t.Id] = (t, outer);
                result[i] = outer;
            }
            _mapped = next;
            return result;
        }
    }

    private TorrentSnapshot Map(TorrentSnapshot t) => t with { Id = OuterId(t.Id), Host = Name };

    public async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        SessionSnapshot s = await Inner.GetSessionAsync(cancellationToken).ConfigureAwait(false);
        return s with { Torrents = Map(s.Torrents) };
    }

    public async Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!Owns(id)) return null;
        TorrentDetails? d = await Inner.GetDetailsAsync(InnerId(id), cancellationToken).ConfigureAwait(false);
        return d is null ? null : d with { Summary = Map(d.Summary) };
    }

    public Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) =>
        Inner.GetSessionLogAsync(cancellationToken);

    public async Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default) =>
        OuterId(await Inner.AddTorrentAsync(pathOrMagnet, saveDirectory, start, picker, storage, cancellationToken).ConfigureAwait(false));

    public Task StartAsync(string id, CancellationToken cancellationToken = default) => Inner.StartAsync(InnerId(id), cancellationToken);

    public Task StopAsync(string id, CancellationToken cancellationToken = default) => Inner.StopAsync(InnerId(id), cancellationToken);

    public Task StartNowAsync(string id, CancellationToken cancellationToken = default) => Inner.StartNowAsync(InnerId(id), cancellationToken);

    public Task MoveInQueueAsync(string id, RTorrent.Engine.Client.QueueMove move, CancellationToken cancellationToken = default) =>
        Inner.MoveInQueueAsync(InnerId(id), move, cancellationToken);

    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Inner.RecheckAsync(InnerId(id), cancellationToken);

    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) =>
        Inner.RemoveAsync(InnerId(id), deleteData, cancellationToken);

    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        Inner.SetFilePriorityAsync(InnerId(id), fileIndexes, priority, cancellationToken);

    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Inner.SetTorrentLimitsAsync(InnerId(id), downloadLimit, uploadLimit, cancellationToken);

    public Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        Inner.SetGlobalLimitsAsync(downloadLimit, uploadLimit, cancellationToken);

    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        Inner.SetSequentialAsync(InnerId(id), sequential, cancellationToken);

    /// <inheritdoc/>
    public Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        Inner.SetSuperSeedingAsync(InnerId(id), on, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<RTorrent.Engine.Client.Category>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        Inner.GetCategoriesAsync(cancellationToken);

    /// <inheritdoc/>
    public Task SaveCategoryAsync(RTorrent.Engine.Client.Category category, CancellationToken cancellationToken = default) =>
        Inner.SaveCategoryAsync(category, cancellationToken);

    /// <inheritdoc/>
    public Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default) => Inner.RemoveCategoryAsync(name, cancellationToken);

    /// <inheritdoc/>
    public Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default) =>
        Inner.SetCategoryAsync(InnerId(id), category, cancellationToken);

    /// <inheritdoc/>
    public Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        Inner.SetTagsAsync(InnerId(id), tags, cancellationToken);

    public IReadOnlyList<string> PickerNames => Inner.PickerNames;

    public IReadOnlyList<string> StorageNames => Inner.StorageNames;

    public IReadOnlyList<PluginInfo> Plugins => Inner.Plugins;

    public Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) => Inner.GetSettingsAsync(cancellationToken);

    public Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default) =>
        Inner.SaveSettingsAsync(settings, cancellationToken);

    public BackendInfo Info => Inner.Info;

    public Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) =>
        Inner.GetFreeSpaceAsync(folder, cancellationToken);

    public Task StopDaemonAsync(CancellationToken cancellationToken = default) => Inner.StopDaemonAsync(cancellationToken);
}
