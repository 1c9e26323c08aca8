using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Security;

namespace RTorrent.Remote.Native;

/// <summary>The daemon wants a user and password, or refused the ones given.</summary>
public sealed class RemoteAuthenticationException(string message) : Exception(message);

/// <summary>
/// The interface's backend over a daemon (<see cref="NativeProtocol"/>): through the Unix socket in its session
/// folder, or over HTTP(S) to another machine.
/// </summary>
/// <remarks>
/// <para>
/// The torrent list is kept here and updated with the changes since the last answer, so polling twice a second costs
/// the daemon and the link almost nothing while torrents are idle, and unchanged torrents keep the same snapshot
/// instances (the interface redraws only what changed).
/// </para>
/// <para>
/// When the daemon cannot be reached (it stopped, restarts, the network is down) calls fail with
/// <see cref="BackendUnavailableException"/> and the backend tries again after a delay that doubles from one second up
/// to <see cref="MaxRetryDelay"/>; calls before then fail at once without touching the network. When it answers again
/// the list is fetched whole (the daemon may have restarted) and the plugins are asked for again.
/// </para>
/// </remarks>
public sealed class RemoteBackend : ITorrentBackend, IDisposable
{
    /// <summary>The longest wait between reconnection attempts.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>How long one call may take before the daemon counts as not answering.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    private readonly RemoteTarget _target;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly object _gate = new();
    private readonly Dictionary<string, TorrentSnapshot> _torrents = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private string? _sessionId;
    private string? _instance;
    private long _version;
    private HelloResult _hello = new();
    private int _failures;
    private DateTimeOffset? _retryAt;
    private string? _problem;
    private bool _helloStale = true;

    /// <summary>A backend for <paramref name="target"/>; nothing is sent until the first call (or <see cref="ConnectAsync"/>).</summary>
    /// <param name="target">Where the daemon is.</param>
    /// <param name="time">The clock (retry delays).</param>
    /// <param name="handler">The HTTP handler (tests); null builds one for the target.</param>
    public RemoteBackend(RemoteTarget target, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        _target = target;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? CreateHandler(target), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("rtorrent", NativeProtocol.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (target.User is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{target.User}:{target.Password}")));
        Uri baseUri = target.BaseUrl ?? new Uri("http://localhost/");
        _endpoint = new Uri(baseUri, RpcServer.NativePath.TrimStart('/'));
    }

    /// <summary>Where this backend connects.</summary>
    public RemoteTarget Target => _target;

    /// <inheritdoc/>
    public BackendInfo Info => new(BackendKind.Daemon, _target.Name, _hello.CanStopDaemon);

    /// <summary>What the daemon said about itself at the last (re)connection.</summary>
    public HelloResult Hello => _hello;

    /// <summary>
    /// Says hello: checks that a compatible daemon answers and learns its plugins. The command line calls it before
    /// the interface starts, so a wrong password or address is told at once.
    /// </summary>
    /// <exception cref="RemoteAuthenticationException">The daemon wants credentials or refused them.</exception>
    /// <exception cref="BackendUnavailableException">Nothing answers there.</exception>
    /// <exception cref="InvalidOperationException">Something answers, but it refuses us or is not an rtorrent daemon.</exception>
    public Task<HelloResult> ConnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) _retryAt = null; // an explicit connection attempt does not wait for the backoff
        return HelloAsync(throwAuth: true, cancellationToken);
    }

    /// <summary>Says hello within the backoff, as every other call (a refused password too, unless <paramref name="throwAuth"/>).</summary>
    private async Task<HelloResult> HelloAsync(bool throwAuth, CancellationToken cancellationToken)
    {
        var hello = await CallAsync(NativeProtocol.Methods.Hello, null, Json.HelloResult, cancellationToken, throwAuth).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{_target.Name} answered hello with nothing");
        if (hello.Protocol != NativeProtocol.Version)
            throw new InvalidOperationException($"{_target.Name} speaks protocol {hello.Protocol}, this interface {NativeProtocol.Version}: use the same rtorrent version on both sides");
        lock (_gate)
        {
            _hello = hello;
            _helloStale = false;
        }
        return hello;
    }

    private static NativeJsonContext Json => NativeJsonContext.Default;

    /// <inheritdoc/>
    public async Task<SessionSnapshot> GetSessionAsync(CancellationToken cancellationToken = default)
    {
        // Not ConnectAsync: the hello a poll sends first must wait for the retry time like the poll itself.
        if (Volatile.Read(ref _helloStale)) await HelloAsync(throwAuth: false, cancellationToken).ConfigureAwait(false);
        SessionRequest request;
        lock (_gate) request = new SessionRequest { Instance = _instance, Since = _version };
        var delta = await CallAsync(NativeProtocol.Methods.Session, Serialize(request, Json.SessionRequest), Json.SessionDelta, cancellationToken)
            .ConfigureAwait(false) ?? throw new InvalidOperationException("the daemon sent no session");
        lock (_gate)
        {
            if (delta.Full)
            {
                var previous = new Dictionary<string, TorrentSnapshot>(_torrents, StringComparer.Ordinal);
                _torrents.Clear();
                _order.Clear();
                foreach (TorrentSnapshot t in delta.Session.Torrents)
                {
                    // Keep the instance the interface already has when nothing changed (it redraws by identity and equality).
                    _torrents[t.Id] = previous.TryGetValue(t.Id, out var old) && old.Equals(t) ? old : t;
                    _order.Add(t.Id);
                }
            }
            else
            {
                foreach (string id in delta.Removed)
                    if (_torrents.Remove(id)) _order.Remove(id);
                foreach (TorrentSnapshot t in delta.Session.Torrents)
                {
                    if (!_torrents.ContainsKey(t.Id)) _order.Add(t.Id);
                    _torrents[t.Id] = t;
                }
            }
            _instance = delta.Instance;
            _version = delta.Version;
            var list = new TorrentSnapshot[_order.Count];
            for (int i = 0; i < list.Length; i++) list[i] = _torrents[_order[i]];
            return delta.Session with { Torrents = list };
        }
    }

    /// <inheritdoc/>
    public async Task<TorrentDetails?> GetDetailsAsync(string id, CancellationToken cancellationToken = default) =>
        (await CallAsync(NativeProtocol.Methods.Details, Serialize(new TorrentRequest { Id = id }, Json.TorrentRequest), Json.DetailsResult,
            cancellationToken).ConfigureAwait(false))?.Details;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<LogEntry>> GetSessionLogAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(NativeProtocol.Methods.Log, null, Json.LogResult, cancellationToken).ConfigureAwait(false))?.Entries ?? [];

    /// <inheritdoc/>
    /// <remarks>
    /// A path names a .torrent file on THIS machine (the interface's): its contents are sent, so the daemon need not
    /// see the file. The save folder is a folder on the daemon's machine.
    /// </remarks>
    public async Task<string> AddTorrentAsync(string pathOrMagnet, string saveDirectory, bool start, string? picker, string? storage,
        CancellationToken cancellationToken = default)
    {
        string source = pathOrMagnet.Trim();
        AddRequest request;
        if (MagnetLink.LooksLikeMagnet(source))
        {
            request = new AddRequest { Magnet = source, SaveDirectory = saveDirectory, Start = start, Picker = picker, Storage = storage };
        }
        else
        {
            string path = ExpandHome(source);
            byte[] contents;
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists) throw new InvalidOperationException($"No such file: {pathOrMagnet}");
                if (info.Length > 64L * 1024 * 1024) throw new InvalidOperationException($"{pathOrMagnet} is too large to be a torrent");
                contents = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Cannot read {pathOrMagnet}: {e.Message}", e);
            }
            request = new AddRequest { Torrent = contents, SaveDirectory = saveDirectory, Start = start, Picker = picker, Storage = storage };
        }
        var result = await CallAsync(NativeProtocol.Methods.Add, Serialize(request, Json.AddRequest), Json.AddResult, cancellationToken)
            .ConfigureAwait(false);
        return result?.Id ?? throw new InvalidOperationException("the daemon did not say which torrent it added");
    }

    private static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..])
            : path;

    /// <inheritdoc/>
    public Task StartAsync(string id, CancellationToken cancellationToken = default) => Send(NativeProtocol.Methods.Start, id, cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(string id, CancellationToken cancellationToken = default) => Send(NativeProtocol.Methods.Stop, id, cancellationToken);

    /// <inheritdoc/>
    public Task RecheckAsync(string id, CancellationToken cancellationToken = default) => Send(NativeProtocol.Methods.Recheck, id, cancellationToken);

    /// <inheritdoc/>
    public Task StartNowAsync(string id, CancellationToken cancellationToken = default) => Send(NativeProtocol.Methods.StartNow, id, cancellationToken);

    /// <inheritdoc/>
    public Task MoveInQueueAsync(string id, RTorrent.Engine.Client.QueueMove move, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.QueueMove,
            Serialize(new QueueMoveRequest { Id = id, Move = move.ToString().ToLowerInvariant() }, Json.QueueMoveRequest), null, cancellationToken);

    private Task Send(string method, string id, CancellationToken cancellationToken) =>
        CallAsync(method, Serialize(new TorrentRequest { Id = id }, Json.TorrentRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task RemoveAsync(string id, bool deleteData, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.Remove, Serialize(new RemoveRequest { Id = id, DeleteData = deleteData }, Json.RemoveRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task SetFilePriorityAsync(string id, IReadOnlyList<int> fileIndexes, Priority priority, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.FilePriority,
            Serialize(new FilePriorityRequest { Id = id, Files = fileIndexes, Priority = priority }, Json.FilePriorityRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task SetTorrentLimitsAsync(string id, long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.TorrentLimits,
            Serialize(new LimitsRequest { Id = id, Download = downloadLimit, Upload = uploadLimit }, Json.LimitsRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task SetGlobalLimitsAsync(long downloadLimit, long uploadLimit, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.GlobalLimits,
            Serialize(new LimitsRequest { Download = downloadLimit, Upload = uploadLimit }, Json.LimitsRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task SetSequentialAsync(string id, bool sequential, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.Sequential, Serialize(new SequentialRequest { Id = id, On = sequential }, Json.SequentialRequest), null,
            cancellationToken);

    /// <inheritdoc/>
    public Task SetSuperSeedingAsync(string id, bool on, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.SuperSeeding, Serialize(new SequentialRequest { Id = id, On = on }, Json.SequentialRequest), null,
            cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<Category>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(NativeProtocol.Methods.Categories, null, Json.CategoriesResult, cancellationToken).ConfigureAwait(false))?.Categories ?? [];

    /// <inheritdoc/>
    public Task SaveCategoryAsync(Category category, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.CategorySave, Serialize(category, Json.Category), null, cancellationToken);

    /// <inheritdoc/>
    public Task RemoveCategoryAsync(string name, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.CategoryRemove, Serialize(new CategoryNameRequest { Name = name }, Json.CategoryNameRequest), null, cancellationToken);

    /// <inheritdoc/>
    public Task SetCategoryAsync(string id, string? category, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.CategorySet, Serialize(new CategorySetRequest { Id = id, Category = category }, Json.CategorySetRequest), null,
            cancellationToken);

    /// <inheritdoc/>
    public Task SetTagsAsync(string id, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.TagsSet, Serialize(new TagsRequest { Id = id, Tags = tags }, Json.TagsRequest), null, cancellationToken);

    /// <inheritdoc/>
    public IReadOnlyList<string> PickerNames => _hello.Pickers;

    /// <inheritdoc/>
    public IReadOnlyList<string> StorageNames => _hello.Storages;

    /// <inheritdoc/>
    public IReadOnlyList<PluginInfo> Plugins => _hello.Plugins;

    /// <inheritdoc/>
    public async Task<EditableSettings> GetSettingsAsync(CancellationToken cancellationToken = default) =>
        await CallAsync(NativeProtocol.Methods.SettingsGet, null, Json.EditableSettings, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("the daemon sent no settings");

    /// <inheritdoc/>
    public Task SaveSettingsAsync(EditableSettings settings, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.SettingsSet, Serialize(settings, Json.EditableSettings), null, cancellationToken);

    /// <inheritdoc/>
    public async Task<long?> GetFreeSpaceAsync(string folder, CancellationToken cancellationToken = default) =>
        (await CallAsync(NativeProtocol.Methods.FreeSpace, Serialize(new FreeSpaceRequest { Path = folder }, Json.FreeSpaceRequest),
            Json.FreeSpaceResult, cancellationToken).ConfigureAwait(false))?.Bytes;

    /// <inheritdoc/>
    public Task StopDaemonAsync(CancellationToken cancellationToken = default) =>
        _hello.CanStopDaemon ? CallAsync(NativeProtocol.Methods.StopDaemon, null, null, cancellationToken)
            : throw new NotSupportedException($"{_target.Name} does not allow stopping it remotely");

    // ------------------------------------------------------------------ transport

    private static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    /// <inheritdoc/>
    public async Task<RTorrent.Engine.Feeds.FeedsSnapshot> GetFeedsAsync(CancellationToken cancellationToken = default) =>
        await CallAsync(NativeProtocol.Methods.Feeds, null, Json.FeedsSnapshot, cancellationToken).ConfigureAwait(false)
        ?? RTorrent.Engine.Feeds.FeedsSnapshot.Empty;

    /// <inheritdoc/>
    public Task SetFeedsAsync(RTorrent.Engine.Feeds.FeedConfig config, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.FeedsSet, Serialize(config, Json.FeedConfig), null, cancellationToken);

    /// <inheritdoc/>
    public Task RefreshFeedAsync(string? feed, CancellationToken cancellationToken = default) =>
        CallAsync(NativeProtocol.Methods.FeedsRefresh, Serialize(new FeedRefreshRequest { Feed = feed }, Json.FeedRefreshRequest), null, cancellationToken);

    private Task CallAsync(string method, byte[]? arguments, JsonTypeInfo<object>? none, CancellationToken cancellationToken) =>
        CallAsync<object>(method, arguments, none, cancellationToken);

    private async Task<T?> CallAsync<T>(string method, byte[]? arguments, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken,
        bool throwAuth = false)
    {
        lock (_gate)
        {
            if (_retryAt is { } retry && _time.GetUtcNow() < retry)
                throw new BackendUnavailableException($"{_target.Name}: {_problem}", retry);
        }
        byte[] body = Envelope(method, arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                if (Volatile.Read(ref _sessionId) is { } sid) request.Headers.TryAddWithoutValidation(RpcGate.SessionIdHeader, sid);
                using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token)
                    .ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Conflict && attempt == 0 &&
                    response.Headers.TryGetValues(RpcGate.SessionIdHeader, out var ids))
                {
                    Volatile.Write(ref _sessionId, ids.FirstOrDefault());
                    continue;
                }
                byte[] payload = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK) RefuseStatus(response.StatusCode, payload, throwAuth);
                MarkAnswered();
                return Parse(method, payload, resultType);
            }
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException tls)
        {
            // Retrying cannot fix a certificate this side does not trust: say what to do instead.
            throw new InvalidOperationException(
                $"{_target.Name}: its TLS certificate is not trusted ({tls.Message}); if it is the daemon's own, pass it with --ca-cert", e);
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken))
        {
            throw MarkUnreachable(e is OperationCanceledException ? $"no answer within {CallTimeout.TotalSeconds:0} s" : Describe(e), e);
        }
    }

    private static bool IsUnreachable(Exception e, CancellationToken caller) =>
        e is HttpRequestException or IOException or SocketException ||
        (e is OperationCanceledException && !caller.IsCancellationRequested);

    private string Describe(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is SocketException s)
                return s.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "not running (connection refused)",
                    // A missing socket file (ENOENT) comes as AddressNotAvailable: the daemon stopped and removed it.
                    SocketError.AddressNotAvailable when _target.SocketPath is not null => "not running (no socket)",
                    SocketError.AddressNotAvailable or SocketError.HostNotFound => "no such host",
                    _ => s.Message,
                };
        return e.InnerException?.Message ?? e.Message;
    }

    private void MarkAnswered()
    {
        lock (_gate)
        {
            if (_failures > 0 || _retryAt is not null)
            {
                // Back after a gap: the daemon may be a new run, so take the whole list and its plugins again.
                _instance = null;
                _version = 0;
                _helloStale = true;
            }
            _failures = 0;
            _retryAt = null;
            _problem = null;
        }
    }

    private BackendUnavailableException MarkUnreachable(string problem, Exception inner)
    {
        lock (_gate)
        {
            _failures++;
            double seconds = Math.Min(Math.Pow(2, Math.Min(_failures - 1, 10)), MaxRetryDelay.TotalSeconds);
            _retryAt = _time.GetUtcNow() + TimeSpan.FromSeconds(seconds);
            _problem = problem;
            return new BackendUnavailableException($"{_target.Name}: {problem}", _retryAt, inner);
        }
    }

    private void RefuseStatus(HttpStatusCode status, byte[] payload, bool throwAuth)
    {
        string text = StripHtml(Encoding.UTF8.GetString(payload));
        switch (status)
        {
            case HttpStatusCode.Unauthorized:
                string message = _target.User is null
                    ? $"{_target.Name} needs a user and password (give them in the URL, with --password-file, or at the prompt)"
                    : $"{_target.Name} refused the user and password";
                if (throwAuth) throw new RemoteAuthenticationException(message);
                throw MarkUnreachable(message, new RemoteAuthenticationException(message));
            case HttpStatusCode.NotFound:
                throw new InvalidOperationException($"{_target.Name} is not an rtorrent daemon (nothing at {RpcServer.NativePath}; is it Transmission?)");
            case HttpStatusCode.Forbidden:
            case HttpStatusCode.MisdirectedRequest:
                throw new InvalidOperationException($"{_target.Name} refused the connection: {text}");
            case HttpStatusCode.RequestEntityTooLarge:
                throw new InvalidOperationException($"{_target.Name} refused a request this large (its rpcMaxRequestBytes setting)");
            default:
                throw new InvalidOperationException($"{_target.Name} answered HTTP {(int)status}: {text}");
        }
    }

    private static string StripHtml(string html)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(html, "<[^>]*>", " ");
        text = System.Text.RegularExpressions.Regex.Replace(WebUtility.HtmlDecode(text), @"\s+", " ").Trim();
        return text.Length > 300 ? text[..300] : text;
    }

    private static byte[] Envelope(string method, byte[]? arguments)
    {
        using var stream = new MemoryStream(64 + (arguments?.Length ?? 0));
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("method", method);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                writer.WriteRawValue(arguments, skipInputValidation: true);
            }
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    private T? Parse<T>(string method, byte[] payload, JsonTypeInfo<T>? resultType)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        string? result = root.TryGetProperty("result", out var r) ? r.GetString() : null;
        if (result != "success")
            throw new InvalidOperationException(string.IsNullOrEmpty(result) ? $"{_target.Name} gave no result for {method}" : result);
        if (resultType is null || !root.TryGetProperty("arguments", out var arguments)) return default;
        try
        {
            return arguments.Deserialize(resultType);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{_target.Name} answered {method} with something this interface cannot read: {e.Message}", e);
        }
    }

    private static SocketsHttpHandler CreateHandler(RemoteTarget target)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
        };
        if (target.SocketPath is { } socketPath)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        if (target.TrustedCertificate is { } trusted)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (errors == SslPolicyErrors.None) return true;
                    if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(trusted);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            };
        }
        return handler;
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
