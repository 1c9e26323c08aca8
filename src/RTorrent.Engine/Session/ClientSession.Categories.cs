using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Session;

/// <summary>
/// Categories (issue 18 part 3, docs/CATEGORIES.md): the session's list (<see cref="CategoryStore"/>, categories.json),
/// where a torrent's data belongs given its category, and the moves that put it there: on a change of category, on an
/// edit of the category's folders, and on completion out of the category's incomplete folder. Every move is the
/// user's move (<see cref="MoveDataAsync(Torrent, string, CancellationToken)"/>: staged, verified, durable before the
/// old copy goes; a failure leaves the data where it was, usable, and says so in the torrent's log).
/// </summary>
public sealed partial class ClientSession
{
    private CategoryStore? _categories;

    /// <summary>The session's categories.</summary>
    public CategoryStore Categories => LazyInitializer.EnsureInitialized(ref _categories, () => new CategoryStore(_options.SessionDirectory));

    /// <summary>The download folder in force (settings.json <c>downloadDirectory</c>): default categories live under it.</summary>
    public string DownloadFolder => Volatile.Read(ref _hookSettings)?.DownloadDirectory ?? _options.Engine.DefaultSavePath;

    /// <summary>Reads categories.json (at start).</summary>
    private void LoadCategories()
    {
        if (Categories.Load() is { } problem) AddLog(PluginLogLevel.Error, problem);
    }

    /// <summary>
    /// Adds a category or changes one (by its name). The torrents in it take its limits at once; when its folders
    /// changed, their data moves to the new folders (as qBittorrent's automatic torrent management does). Returns the
    /// category as stored; throws for a bad name, folder or limit, and with the first failed move (the others are
    /// still tried, each failure is in its torrent's log).
    /// </summary>
    public async Task<Category> SaveCategoryAsync(Category category, CancellationToken cancellationToken = default)
    {
        var c = category.Validated();
        var old = Categories.Find(c.Name);
        await Categories.PutAsync(c);
        AddLog(PluginLogLevel.Information, old is null ? $"category {c.Name} added" : $"category {c.Name} changed");
        var members = Engine.Torrents.Where(t => t.Category == c.Name).ToArray();
        foreach (var t in members) await t.SetCategoryAsync(c.Name, c.Limits);
        if (old is null || (old.SavePath == c.SavePath && old.IncompletePath == c.IncompletePath)) return c;
        Exception? first = null;
        foreach (var t in members)
        {
            try { await PlaceAsync(t, cancellationToken); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException) { first ??= e; }
        }
        if (first is not null) throw first;
        return c;
    }

    /// <summary>
    /// Removes a category. Its torrents keep their data where it is and have no category from then on (qBittorrent).
    /// </summary>
    /// <exception cref="ArgumentException">There is no such category.</exception>
    public async Task RemoveCategoryAsync(string name)
    {
        if (!await Categories.RemoveAsync(name)) throw new ArgumentException($"There is no category '{name}'.", nameof(name));
        AddLog(PluginLogLevel.Information, $"category {name} removed");
        foreach (var t in Engine.Torrents.Where(t => t.Category == name).ToArray()) await t.SetCategoryAsync(null, null);
    }

    /// <summary>
    /// Puts <paramref name="torrent"/> in the category <paramref name="name"/> (null: none), creating the category with
    /// its default folders when there is none of that name, then moves its data where it belongs: the category's folder
    /// (its incomplete folder while the download is not complete), or the download folder for no category. The category
    /// is saved before the move; a move that fails leaves the data where it was (and throws), the category stays set.
    /// </summary>
    public async Task SetCategoryAsync(Torrent torrent, string? name, CancellationToken cancellationToken = default)
    {
        var c = string.IsNullOrWhiteSpace(name) ? null : await EnsureCategoryAsync(name);
        await torrent.SetCategoryAsync(c?.Name, c?.Limits);
        await PlaceAsync(torrent, cancellationToken);
    }

    /// <summary>The category named <paramref name="name"/>, created with its default folders when there is none.</summary>
    internal async Task<Category> EnsureCategoryAsync(string name)
    {
        var n = CategoryNames.Normalize(name);
        if (Categories.Find(n) is { } c) return c;
        c = new Category { Name = n };
        await Categories.PutAsync(c);
        AddLog(PluginLogLevel.Information, $"category {n} created (folder {c.ResolveSavePath(DownloadFolder)})");
        return Categories.Find(n) ?? c;
    }

    /// <summary>
    /// The options of a torrent being added with a category: the category exists (created if not), its limits come
    /// with it, and unless <see cref="TorrentOptions.UseCategoryFolder"/> is off its folder is the category's
    /// incomplete folder, or else its folder.
    /// </summary>
    private async Task<TorrentOptions> WithCategoryAsync(TorrentOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Category)) return options with { Category = null, CategoryLimits = null };
        var c = await EnsureCategoryAsync(options.Category);
        var folder = DownloadFolder;
        var placed = options with { Category = c.Name, CategoryLimits = c.Limits };
        if (!options.UseCategoryFolder) return placed;
        var savePath = c.ResolveIncompletePath(folder) ?? c.ResolveSavePath(folder);
        Directory.CreateDirectory(savePath);
        return placed with { SavePath = savePath };
    }

    /// <summary>Where <paramref name="torrent"/>'s data belongs now: its category's folders, or the download folder.</summary>
    private string TargetFolder(Torrent torrent, bool complete)
    {
        var folder = DownloadFolder;
        if (Categories.Find(torrent.Category) is not { } c) return Path.GetFullPath(folder);
        return complete ? c.ResolveSavePath(folder) : c.ResolveIncompletePath(folder) ?? c.ResolveSavePath(folder);
    }

    /// <summary>Moves the torrent's data where its category says, when it is not there.</summary>
    private async Task PlaceAsync(Torrent torrent, CancellationToken cancellationToken)
    {
        var (complete, savePath) = await Engine.Loop.InvokeAsync(() => (torrent.IsComplete, torrent.SavePath));
        var target = TargetFolder(torrent, complete);
        if (SameFolder(savePath, target)) return;
        await MoveDataAsync(torrent, target, cancellationToken);
    }

    /// <summary>
    /// A complete torrent whose data is in its category's incomplete folder goes to the category's folder. Called when
    /// a download completes, after an add and after a restore (a crash or a failed move left it there). Returns whether
    /// a move was made; a failure is logged on the torrent (the data stays usable where it is), never thrown.
    /// </summary>
    internal async Task<bool> MoveCompletedAsync(Torrent torrent)
    {
        if (Categories.Find(torrent.Category) is not { } c || c.ResolveIncompletePath(DownloadFolder) is not { } incomplete) return false;
        var (complete, savePath) = await Engine.Loop.InvokeAsync(() => (torrent.IsComplete, torrent.SavePath));
        if (!complete || !SameFolder(savePath, incomplete)) return false;
        var target = c.ResolveSavePath(DownloadFolder);
        try
        {
            await MoveDataAsync(torrent, target);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // MoveDataAsync logged why on the torrent; the data stays in the incomplete folder and keeps seeding.
            torrent.Log(PluginLogLevel.Warning, $"the completed download stays in {incomplete}: {e.Message}");
            return false;
        }
    }

    /// <summary>A download completed: move it out of its category's incomplete folder, then run the completed hook.</summary>
    private void OnDownloadCompleted(Torrent torrent)
    {
        if (Categories.Find(torrent.Category)?.IncompletePath is null)
        {
            RunHook(HookEvent.Completed, torrent);
            return;
        }
        // Off the loop (this is called on it); the hook sees the folder the data ended in, as Transmission's does.
        var moving = Task.Run(async () =>
        {
            try { await MoveCompletedAsync(torrent); }
            finally { RunHook(HookEvent.Completed, torrent); }
        });
        TrackCategoryMove(moving);
    }

    private readonly List<Task> _categoryMoves = [];

    private void TrackCategoryMove(Task moving)
    {
        lock (_categoryMoves)
        {
            _categoryMoves.RemoveAll(t => t.IsCompleted);
            _categoryMoves.Add(moving);
        }
    }

    /// <summary>Moves started by completions, still running (tests wait on them; closing cancels them through the relocator).</summary>
    internal Task CategoryMovesAsync()
    {
        lock (_categoryMoves) return Task.WhenAll(_categoryMoves.ToArray());
    }

    /// <summary>After an add or a restore: torrents complete in their incomplete folder move on, in the background.</summary>
    private void MoveCompletedLater(IEnumerable<Torrent> torrents)
    {
        var candidates = torrents.Where(t => Categories.Find(t.Category)?.IncompletePath is not null).ToArray();
        if (candidates.Length == 0) return;
        TrackCategoryMove(Task.Run(async () =>
        {
            foreach (var t in candidates)
                if (!IsClosing) await MoveCompletedAsync(t);
        }));
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(PathGuard.NormalizeRoot(a).TrimEnd('/'), PathGuard.NormalizeRoot(b).TrimEnd('/'), StringComparison.Ordinal);
}
