using System.Text.Json;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// The torrent methods that act: torrent-start, -start-now, -stop, -verify, -reannounce, -remove, -set-location,
/// -rename-path and queue-move-top/up/down/bottom. Each acts on every torrent <c>ids</c> names that is in the session;
/// ids that name none are listed in an error result afterwards (Transmission says nothing; a script deserves to know).
/// </summary>
internal sealed class TorrentActions(TransmissionContext context, TorrentIds ids, Relocations relocations)
{
    private readonly ILogger _logger = context.LoggerFactory.CreateLogger("rtorrent.rpc.transmission");

    /// <summary>
    /// torrent-start: stopped torrents start through the queue (they wait, status 3 or 5, when its limits leave no
    /// slot). torrent-start-now: forced start beside the queue (never queued while it runs; kept across restarts),
    /// also for torrents that are queued or already running. In queue order, so the front ones take the free slots.
    /// </summary>
    public Task<string> StartAsync(Arguments args, bool now = false) => ForEachAsync(args, async torrents =>
    {
        foreach (var t in torrents.OrderBy(t => t.QueuePosition))
        {
            if (now)
            {
                bool forcedAndRunning = t.Forced && t.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;
                if (t.State != TorrentState.Checking && !forcedAndRunning) await t.StartNowAsync().ConfigureAwait(false);
            }
            else if (t.State is TorrentState.Stopped or TorrentState.Error) await t.StartAsync().ConfigureAwait(false);
        }
        return [];
    });

    /// <summary>torrent-stop: every torrent at once (each tells its trackers, bounded by the engine's stop timeout).</summary>
    public Task<string> StopAsync(Arguments args) => ForEachAsync(args, async torrents =>
    {
        await Task.WhenAll(torrents.Select(t => t.StopAsync())).ConfigureAwait(false);
        return [];
    });

    /// <summary>
    /// torrent-verify: starts a full check and answers at once (status 2 while it runs; Transmission queues it too).
    /// A running torrent carries on afterwards.
    /// </summary>
    public Task<string> VerifyAsync(Arguments args) => ForEachAsync(args, torrents =>
    {
        // A magnet link without its metadata has nothing to check yet (Transmission does nothing either).
        foreach (var t in torrents.Where(t => t.Metainfo is not null && t.State != TorrentState.Checking))
            _ = t.RecheckAsync().ContinueWith(r => _logger.LogWarning("checking {Torrent} failed: {Error}", t.Name, r.Exception?.InnerException?.Message),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return Task.FromResult<IReadOnlyList<string>>([]);
    });

    /// <summary>torrent-reannounce: each peer source looks for peers again as soon as its tracker's min interval allows.</summary>
    public Task<string> ReannounceAsync(Arguments args) => ForEachAsync(args, async torrents =>
    {
        foreach (var t in torrents) await t.ReannounceAsync().ConfigureAwait(false);
        return [];
    });

    /// <summary>torrent-remove, with <c>delete-local-data</c> deleting the torrent's files (and its folders left empty).</summary>
    public async Task<string> RemoveAsync(Arguments args)
    {
        args.TryGetBool("delete-local-data", out bool delete);
        return await ForEachAsync(args, async torrents =>
        {
            await Task.WhenAll(torrents.Select(async t =>
            {
                await context.Session.RemoveAsync(t, delete).ConfigureAwait(false);
                ids.Retire(t.InfoHash.ToHex());
            })).ConfigureAwait(false);
            return [];
        }).ConfigureAwait(false);
    }

    /// <summary>torrent-set-location: <c>location</c> (absolute), <c>move</c> (move the data there, or look for it there).</summary>
    public async Task<string> SetLocationAsync(Arguments args)
    {
        if (!args.TryGetString("location", out var location)) throw new RpcException("no location");
        if (!Path.IsPathFullyQualified(location)) throw new RpcException("new location path is not absolute");
        args.TryGetBool("move", out bool move);
        return await ForEachAsync(args, async torrents =>
        {
            var problems = new List<string>();
            foreach (var t in torrents)
                if (await relocations.SetLocationAsync(t, location, move).ConfigureAwait(false) is { } problem) problems.Add(problem);
            return problems;
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// torrent-rename-path: one torrent, <c>path</c> (torrent-relative, starting with the torrent's name) and
    /// <c>name</c> (its new last part). Answers <c>id</c>, <c>path</c> and <c>name</c>, also when it fails.
    /// </summary>
    public async Task<string> RenamePathAsync(Arguments args, Utf8JsonWriter w)
    {
        args.TryGetString("path", out var path);
        args.TryGetString("name", out var name);
        var (_, torrents, _) = await IdSelection.ResolveAsync(args, context, ids).ConfigureAwait(false);
        if (torrents.Count != 1) throw new RpcException("torrent-rename-path requires 1 torrent");
        var t = torrents[0];
        string result = "success";
        try
        {
            await context.Session.RenamePathAsync(t, path, name).ConfigureAwait(false);
        }
        catch (Exception e) when (TransmissionRpcHandler.IsRefusal(e))
        {
            result = e.Message;
        }
        context.Journal.Invalidate();
        w.WriteStartObject();
        w.WriteNumber("id", ids.GetOrAssign(t.InfoHash.ToHex()));
        w.WriteString("path", path);
        w.WriteString("name", name);
        w.WriteEndObject();
        return result;
    }

    /// <summary>queue-move-top/up/down/bottom: the torrents move as a block, as libtransmission moves them.</summary>
    public Task<string> QueueMoveAsync(Arguments args, QueueMove move) => ForEachAsync(args, async torrents =>
    {
        await context.Session.Engine.MoveInQueueAsync(torrents, move).ConfigureAwait(false);
        return [];
    });

    private async Task<string> ForEachAsync(Arguments args, Func<List<Torrent>, Task<IReadOnlyList<string>>> act)
    {
        var (_, torrents, unknown) = await IdSelection.ResolveAsync(args, context, ids).ConfigureAwait(false);
        var problems = new List<string>();
        try
        {
            if (torrents.Count > 0) problems.AddRange(await act(torrents).ConfigureAwait(false));
        }
        finally
        {
            context.Journal.Invalidate();
        }
        if (unknown.Count > 0) problems.Add(IdSelection.UnknownMessage(unknown));
        return problems.Count == 0 ? "success" : string.Join("; ", problems);
    }
}
