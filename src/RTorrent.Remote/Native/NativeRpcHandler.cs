using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Native;

/// <summary>The daemon's side of <see cref="NativeProtocol"/>: each method calls the session's <see cref="ITorrentBackend"/>.</summary>
public sealed class NativeRpcHandler : IRpcHandler
{
    private readonly ITorrentBackend _backend;
    private readonly SnapshotJournal _journal;
    private readonly Func<HelloResult> _hello;

    /// <summary>Serves <paramref name="backend"/>, sending torrent lists as changes recorded by <paramref name="journal"/>.</summary>
    /// <param name="backend">The session.</param>
    /// <param name="journal">Change tracking over the same session.</param>
    /// <param name="hello">Who the daemon is (asked on each <c>hello</c>: plugins can change).</param>
    public NativeRpcHandler(ITorrentBackend backend, SnapshotJournal journal, Func<HelloResult> hello)
    {
        _backend = backend;
        _journal = journal;
        _hello = hello;
    }

    private static NativeJsonContext Json => NativeJsonContext.Default;

    /// <inheritdoc/>
    public async ValueTask<string> HandleAsync(RpcCall call, Utf8JsonWriter arguments, CancellationToken cancellationToken)
    {
        try
        {
            switch (call.Method)
            {
                case NativeProtocol.Methods.Hello:
                    Write(arguments, _hello(), Json.HelloResult);
                    break;
                case NativeProtocol.Methods.Session:
                    Write(arguments, await SessionAsync(Read(call, Json.SessionRequest) ?? new SessionRequest(), cancellationToken), Json.SessionDelta);
                    break;
                case NativeProtocol.Methods.Details:
                    Write(arguments, new DetailsResult { Details = await _backend.GetDetailsAsync(Required(call, Json.TorrentRequest).Id, cancellationToken) },
                        Json.DetailsResult);
                    break;
                case NativeProtocol.Methods.Log:
                    Write(arguments, new LogResult { Entries = await _backend.GetSessionLogAsync(cancellationToken) }, Json.LogResult);
                    break;
                case NativeProtocol.Methods.Add:
                    Write(arguments, new AddResult { Id = await AddAsync(Required(call, Json.AddRequest), cancellationToken) }, Json.AddResult);
                    break;
                case NativeProtocol.Methods.Start:
                    await _backend.StartAsync(Required(call, Json.TorrentRequest).Id, cancellationToken);
                    break;
                case NativeProtocol.Methods.StartNow:
                    await _backend.StartNowAsync(Required(call, Json.TorrentRequest).Id, cancellationToken);
                    break;
                case NativeProtocol.Methods.QueueMove:
                    var move = Required(call, Json.QueueMoveRequest);
                    await _backend.MoveInQueueAsync(move.Id, Enum.TryParse<RTorrent.Engine.Client.QueueMove>(move.Move, ignoreCase: true, out var m)
                        && Enum.IsDefined(m) && !int.TryParse(move.Move, out _) ? m : throw new RpcException($"move must be top, up, down or bottom, not '{move.Move}'"),
                        cancellationToken);
                    break;
                case NativeProtocol.Methods.Stop:
                    await _backend.StopAsync(Required(call, Json.TorrentRequest).Id, cancellationToken);
                    break;
                case NativeProtocol.Methods.Recheck:
                    await _backend.RecheckAsync(Required(call, Json.TorrentRequest).Id, cancellationToken);
                    break;
                case NativeProtocol.Methods.Remove:
                    var remove = Required(call, Json.RemoveRequest);
                    await _backend.RemoveAsync(remove.Id, remove.DeleteData, cancellationToken);
                    break;
                case NativeProtocol.Methods.FilePriority:
                    var priority = Required(call, Json.FilePriorityRequest);
                    await _backend.SetFilePriorityAsync(priority.Id, priority.Files, priority.Priority, cancellationToken);
                    break;
                case NativeProtocol.Methods.TorrentLimits:
                    var limits = Required(call, Json.LimitsRequest);
                    await _backend.SetTorrentLimitsAsync(limits.Id ?? throw new RpcException("id is missing"), limits.Download, limits.Upload,
                        cancellationToken);
                    break;
                case NativeProtocol.Methods.GlobalLimits:
                    var global = Required(call, Json.LimitsRequest);
                    await _backend.SetGlobalLimitsAsync(global.Download, global.Upload, cancellationToken);
                    break;
                case NativeProtocol.Methods.Sequential:
                    var sequential = Required(call, Json.SequentialRequest);
                    await _backend.SetSequentialAsync(sequential.Id, sequential.On, cancellationToken);
                    break;
                case NativeProtocol.Methods.SuperSeeding:
                    var superSeeding = Required(call, Json.SequentialRequest);
                    await _backend.SetSuperSeedingAsync(superSeeding.Id, superSeeding.On, cancellationToken);
                    break;
                case NativeProtocol.Methods.SettingsGet:
                    Write(arguments, await _backend.GetSettingsAsync(cancellationToken), Json.EditableSettings);
                    break;
                case NativeProtocol.Methods.SettingsSet:
                    await _backend.SaveSettingsAsync(Required(call, Json.EditableSettings), cancellationToken);
                    break;
                case NativeProtocol.Methods.FreeSpace:
                    Write(arguments, new FreeSpaceResult { Bytes = await _backend.GetFreeSpaceAsync(Required(call, Json.FreeSpaceRequest).Path, cancellationToken) },
                        Json.FreeSpaceResult);
                    break;
                case NativeProtocol.Methods.Categories:
                    Write(arguments, new CategoriesResult { Categories = await _backend.GetCategoriesAsync(cancellationToken) }, Json.CategoriesResult);
                    break;
                case NativeProtocol.Methods.CategorySave:
                    await _backend.SaveCategoryAsync(Required(call, Json.Category), cancellationToken);
                    break;
                case NativeProtocol.Methods.CategoryRemove:
                    await _backend.RemoveCategoryAsync(Required(call, Json.CategoryNameRequest).Name, cancellationToken);
                    break;
                case NativeProtocol.Methods.CategorySet:
                    var category = Required(call, Json.CategorySetRequest);
                    await _backend.SetCategoryAsync(category.Id, category.Category, cancellationToken);
                    break;
                case NativeProtocol.Methods.TagsSet:
                    var tags = Required(call, Json.TagsRequest);
                    await _backend.SetTagsAsync(tags.Id, tags.Tags, cancellationToken);
                    break;
                case NativeProtocol.Methods.StopDaemon:
                    if (!_backend.Info.CanStopDaemon) throw new RpcException("this daemon cannot be stopped through the RPC");
                    await _backend.StopDaemonAsync(cancellationToken);
                    break;
                case NativeProtocol.Methods.Feeds:
                    Write(arguments, await _backend.GetFeedsAsync(cancellationToken), Json.FeedsSnapshot);
                    break;
                case NativeProtocol.Methods.FeedsSet:
                    await _backend.SetFeedsAsync(Required(call, Json.FeedConfig), cancellationToken);
                    break;
                case NativeProtocol.Methods.FeedsRefresh:
                    await _backend.RefreshFeedAsync((Read(call, Json.FeedRefreshRequest) ?? new FeedRefreshRequest()).Feed, cancellationToken);
                    break;
                default:
                    return "method name not recognized";
            }
            return "success";
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException or FormatException)
        {
            // The backend's refusals carry messages meant for people.
            throw new RpcException(e.Message);
        }
    }

    private async Task<SessionDelta> SessionAsync(SessionRequest request, CancellationToken cancellationToken)
    {
        var view = await _journal.GetAsync(cancellationToken);
        if (!view.CanAnswerSince(request.Instance, request.Since))
            return new SessionDelta { Instance = view.Instance, Version = view.Version, Full = true, Session = view.Session };
        var changed = new HashSet<string>(view.ChangedSince(request.Since), StringComparer.Ordinal);
        return new SessionDelta
        {
            Instance = view.Instance,
            Version = view.Version,
            Full = false,
            Session = view.Session with { Torrents = changed.Count == 0 ? [] : view.Session.Torrents.Where(t => changed.Contains(t.Id)).ToArray() },
            Removed = view.RemovedSince(request.Since).ToArray(),
        };
    }

    private async Task<string> AddAsync(AddRequest request, CancellationToken cancellationToken)
    {
        if ((request.Torrent is null) == (request.Magnet is null)) throw new RpcException("give either a torrent or a magnet link");
        if (request.Magnet is { } magnet)
            return await _backend.AddTorrentAsync(magnet, request.SaveDirectory, request.Start, request.Picker, request.Storage, cancellationToken);
        // The backend adds by path; the bytes come from the client's machine, so they pass through a private temporary file.
        TorrentMetainfo.Parse(request.Torrent!); // a clear error before anything touches the disk
        string temp = Path.Combine(Path.GetTempPath(), $"rtorrent-add-{Guid.NewGuid():N}.torrent");
        try
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new FileStream(temp, create))
                await file.WriteAsync(request.Torrent, cancellationToken);
            return await _backend.AddTorrentAsync(temp, request.SaveDirectory, request.Start, request.Picker, request.Storage, cancellationToken);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static T? Read<T>(RpcCall call, JsonTypeInfo<T> type)
    {
        try
        {
            return call.Arguments.Deserialize(type);
        }
        catch (JsonException e)
        {
            throw new RpcException($"arguments of {call.Method} are not valid: {e.Message}");
        }
    }

    private static T Required<T>(RpcCall call, JsonTypeInfo<T> type) where T : class =>
        Read(call, type) ?? throw new RpcException($"{call.Method} needs arguments");

    private static void Write<T>(Utf8JsonWriter writer, T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(writer, value, type);
}
