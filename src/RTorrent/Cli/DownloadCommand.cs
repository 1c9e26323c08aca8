using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RTorrent.Daemon;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Session;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent download</c> and <c>rtorrent seed</c>: one torrent, headless. Progress goes to stderr: one updating
/// line on a terminal, a plain line every few seconds otherwise. Ctrl+C or SIGTERM stops cleanly and saves resume
/// data, so running the same command again carries on where it stopped.
/// </summary>
/// <remarks>
/// Without <c>--session</c> each torrent gets its own session folder under the user's data folder
/// (<c>$XDG_DATA_HOME/rtorrent/cli/&lt;info-hash&gt;</c>), separate from the interface's session so both can run
/// at once. Exit codes: 0 complete (or stopped by a signal while seeding), 1 failed while running (disk full, ...),
/// 2 unusable input (bad torrent, missing data for <c>seed</c>, port in use).
/// </remarks>
public static partial class DownloadCommand
{
    /// <summary>Builds <c>download</c>.</summary>
    public static Command CreateDownload() => Build("download", "Download a torrent (a .torrent file or a magnet link).", seedOnly: false);

    /// <summary>Builds <c>seed</c>.</summary>
    public static Command CreateSeed() => Build("seed", "Check existing data and seed it.", seedOnly: true);

    private sealed record Options(
        string Input, string Save, bool Seed, int Port, string? Bind, IReadOnlyList<string> Peers, string? Session,
        string Picker, string Storage, IReadOnlyList<string> DhtBootstrap, bool NoDht, bool NoPex, bool NoLsd,
        IReadOnlyList<string> PluginDirs, bool Verbose, long DownloadLimit, long UploadLimit, bool SeedOnly,
        EncryptionMode Encryption, bool SuperSeed, RTorrent.Engine.Proxies.ProxyPolicy Proxy, bool Utp);

    private static Command Build(string name, string description, bool seedOnly)
    {
        var input = new Argument<string>("torrent") { Description = seedOnly ? "The .torrent file." : "A .torrent file or a magnet link." };
        var save = new Option<string>("--save", "-s") { Description = "The download folder.", Required = true };
        var seed = new Option<bool>("--seed") { Description = "Keep seeding after the download completes, until interrupted." };
        var port = new Option<int>("--port", "-p") { Description = "TCP (and DHT UDP) port to listen on; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var bind = new Option<string?>("--bind") { Description = "Address to listen on (default: all)." };
        var peers = new Option<string[]>("--peer") { Description = "Connect to this peer directly (HOST:PORT); repeatable.", AllowMultipleArgumentsPerToken = false };
        var session = new Option<string?>("--session") { Description = "Session folder for resume data (default: one per torrent under the user's data folder)." };
        var picker = new Option<string>("--picker") { Description = "Piece picker (see 'rtorrent plugins').", DefaultValueFactory = _ => "rarest-first" };
        var storage = new Option<string>("--storage") { Description = "Storage backend (see 'rtorrent plugins').", DefaultValueFactory = _ => "file" };
        var dhtBootstrap = new Option<string[]>("--dht-bootstrap") { Description = "DHT bootstrap node HOST:PORT; repeatable." };
        var noDht = new Option<bool>("--no-dht") { Description = "Do not use the DHT." };
        var noPex = new Option<bool>("--no-pex") { Description = "Do not use peer exchange." };
        var noLsd = new Option<bool>("--no-lsd") { Description = "Do not use local service discovery." };
        var plugins = new Option<string[]>("--plugins") { Description = "Extra plugin folder; repeatable." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log engine events to stderr." };
        var down = new Option<string?>("--download-limit") { Description = "Download limit, e.g. 500K, 2M (bytes/s)." };
        var up = new Option<string?>("--upload-limit") { Description = "Upload limit, e.g. 500K, 2M (bytes/s)." };
        var encryption = new Option<EncryptionMode>("--encryption")
        {
            Description = "Protocol encryption (MSE): disabled, enabled (accept both, dial plain), preferred (dial encrypted), required (RC4 only).",
            DefaultValueFactory = _ => EncryptionMode.Enabled,
        };
        var command = new Command(name, description) { input, save, port, bind, peers, session, picker, storage, dhtBootstrap, noDht, noPex, noLsd, plugins, verbose, down, up, encryption };
        if (!seedOnly) command.Options.Add(seed);
        var superSeed = new Option<bool>("--super-seed")
        {
            Description = "BEP 16 super-seeding for this first seeding: peers get one piece at a time, the next once it has spread; " +
                          "it ends by itself once every piece is out.",
        };
        command.Options.Add(superSeed);
        var proxy = new Option<string?>("--proxy")
        {
            Description = "Connect to peers and trackers (and the DHT, through SOCKS5) through this proxy: " +
                          "socks5://[user:password@]host:port, socks4://host:port or http://[user:password@]host:port.",
        };
        var proxyOnly = new Option<bool>("--proxy-only")
        {
            Description = "Never send anything directly (the kill switch): no listening, no local discovery, nothing when the proxy is down.",
        };
        command.Options.Add(proxy);
        command.Options.Add(proxyOnly);
        var utp = new Option<bool>("--utp")
        {
            Description = "Dial peers over uTP first, then TCP (settings.json enableOutgoingUtp). Without it peers are dialled " +
                          "over TCP; uTP peers are accepted either way.",
        };
        command.Options.Add(utp);
        command.SetAction(async (parseResult, ct) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            long dl, ul;
            try
            {
                dl = ParseRate(parseResult.GetValue(down));
                ul = ParseRate(parseResult.GetValue(up));
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync(e.Message);
                return ExitCodes.UnusableInput;
            }
            var proxyPolicy = RTorrent.Engine.Proxies.ProxyPolicy.Direct;
            if (parseResult.GetValue(proxy) is { } proxyText)
            {
                if (!RTorrent.Engine.Proxies.ProxyUrl.TryParse(proxyText, out var server, out var proxyError))
                {
                    await error.WriteLineAsync(proxyError);
                    return ExitCodes.UnusableInput;
                }
                proxyPolicy = new RTorrent.Engine.Proxies.ProxyPolicy(server, ProxyOnly: parseResult.GetValue(proxyOnly));
            }
            else if (parseResult.GetValue(proxyOnly))
            {
                await error.WriteLineAsync("--proxy-only needs --proxy.");
                return ExitCodes.UnusableInput;
            }
            var o = new Options(parseResult.GetValue(input)!, parseResult.GetValue(save)!, seedOnly || parseResult.GetValue(seed),
                parseResult.GetValue(port), parseResult.GetValue(bind), parseResult.GetValue(peers) ?? [], parseResult.GetValue(session),
                parseResult.GetValue(picker)!, parseResult.GetValue(storage)!, parseResult.GetValue(dhtBootstrap) ?? [],
                parseResult.GetValue(noDht), parseResult.GetValue(noPex), parseResult.GetValue(noLsd), parseResult.GetValue(plugins) ?? [],
                parseResult.GetValue(verbose), dl, ul, seedOnly, parseResult.GetValue(encryption), parseResult.GetValue(superSeed), proxyPolicy, parseResult.GetValue(utp));
            return await RunAsync(o, error, ct);
        });
        return command;
    }

    /// <summary>Parses "500K", "2M", "1.5MiB", "1000" into bytes per second.</summary>
    internal static long ParseRate(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 0;
        var t = text.Trim().ToUpperInvariant().Replace("IB", "").Replace("B/S", "").Replace("/S", "").TrimEnd('B');
        long mult = 1;
        if (t.EndsWith('K')) { mult = 1024; t = t[..^1]; }
        else if (t.EndsWith('M')) { mult = 1024 * 1024; t = t[..^1]; }
        else if (t.EndsWith('G')) { mult = 1024L * 1024 * 1024; t = t[..^1]; }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < 0)
            throw new FormatException($"'{text}' is not a rate (examples: 500K, 2M, 0 for unlimited).");
        return (long)(v * mult);
    }

    /// <summary>What the command works on, once its input was found usable.</summary>
    private sealed record Input(TorrentMetainfo? Meta, MagnetLink? Magnet, IReadOnlyList<IPEndPoint> Peers, IPAddress? Bind)
    {
        /// <summary>The torrent's id in the engine and its snapshots (the wire info-hash in hex).</summary>
        public string Id => (Meta?.WireHash ?? Magnet!.WireHash).ToHex();
    }

    /// <summary>
    /// Runs the command: reads the input, opens the session, adds the torrent (for <c>seed</c>, after checking the data is
    /// all there), follows it until it completes, fails or a signal stops it, and closes the session (saving resume data).
    /// </summary>
    private static async Task<int> RunAsync(Options o, TextWriter error, CancellationToken ct)
    {
        if (await ReadInputAsync(o, error) is not { } input) return ExitCodes.UnusableInput;
        using var loggerFactory = o.Verbose ? new StderrLoggerFactory(error) : null;
        if (await OpenSessionAsync(o, input, loggerFactory, error) is not { } session) return ExitCodes.UnusableInput;
        await using (session)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var signals = StopOn(stop, PosixSignal.SIGTERM, PosixSignal.SIGINT);
            if (await AddAsync(session, o, input, error) is not { } torrent) return ExitCodes.UnusableInput;
            if (o.SeedOnly && !await StartSeedingAsync(session, torrent, input.Id, o, error)) return ExitCodes.UnusableInput;
            int exit = await FollowAsync(session, torrent, input.Id, o, error, stop.Token);
            await WriteStatsAsync(error);
            return exit;
        }
    }

    /// <summary>
    /// The torrent (a .torrent file or a magnet link), the peers and the address to listen on; null, with one line on
    /// stderr, when one is unusable.
    /// </summary>
    private static async Task<Input?> ReadInputAsync(Options o, TextWriter error)
    {
        TorrentMetainfo? meta = null;
        MagnetLink? magnet = null;
        try
        {
            if (!o.SeedOnly && MagnetLink.LooksLikeMagnet(o.Input)) magnet = MagnetLink.Parse(o.Input);
            else meta = TorrentMetainfo.Load(o.Input);
        }
        catch (Exception e) when (e is TorrentFormatException or MagnetFormatException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync(e switch
            {
                MagnetFormatException => $"Invalid magnet link: {e.Message}",
                TorrentFormatException => $"'{o.Input}' is not a usable torrent: {e.Message}",
                FileNotFoundException or DirectoryNotFoundException => $"Cannot read '{o.Input}': no such file.",
                _ => $"Cannot read '{o.Input}': {e.Message}",
            });
            return null;
        }
        var peers = new List<IPEndPoint>();
        foreach (var p in o.Peers)
        {
            if (!TryParseEndPoint(p, out var ep))
            {
                await error.WriteLineAsync($"'{p}' is not HOST:PORT.");
                return null;
            }
            peers.Add(ep!);
        }
        IPAddress? bind = null;
        if (o.Bind is not null && !IPAddress.TryParse(o.Bind, out bind))
        {
            await error.WriteLineAsync($"'{o.Bind}' is not an IP address.");
            return null;
        }
        return new Input(meta, magnet, peers, bind);
    }

    /// <summary>
    /// Opens the session folder (by default one of its own per torrent); null, with one line on stderr, when it cannot.
    /// </summary>
    private static async Task<ClientSession?> OpenSessionAsync(Options o, Input input, ILoggerFactory? loggerFactory, TextWriter error)
    {
        var disabled = new List<string>();
        if (o.NoDht) disabled.Add("dht");
        if (o.NoPex) disabled.Add("pex");
        if (o.NoLsd) disabled.Add("lsd");
        try
        {
            return await ClientSession.OpenAsync(new SessionOptions
            {
                SessionDirectory = o.Session ?? Path.Combine(Paths.DataHome(), "rtorrent", "cli", input.Id),
                Engine = new EngineConfig { ListenPort = o.Port, ListenAddress = input.Bind, DownloadLimit = o.DownloadLimit, UploadLimit = o.UploadLimit,
                    Encryption = o.Encryption, Proxy = o.Proxy, Transports = o.Utp ? PeerTransports.All : PeerTransports.Default },
                PluginDirectories = o.PluginDirs,
                EnableDht = !o.NoDht && o.Proxy.DhtAllowed,
                DhtBootstrap = o.DhtBootstrap,
                DisabledPeerSources = disabled,
                LoggerFactory = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            });
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot start: {e.Message}");
            return null;
        }
    }

    /// <summary>Stops <paramref name="stop"/> on the signals instead of ending the process (the session saves first).</summary>
    private static SignalRegistrations StopOn(CancellationTokenSource stop, params PosixSignal[] signals) =>
        new([.. signals.Select(s => PosixSignalRegistration.Create(s, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        }))]);

    /// <summary>
    /// Adds the torrent: a download starts at once (its data checked first); <c>seed</c>'s is checked and left stopped.
    /// Null, with one line on stderr, when the session refuses it.
    /// </summary>
    private static async Task<Torrent?> AddAsync(ClientSession session, Options o, Input input, TextWriter error)
    {
        var options = new TorrentOptions
        {
            SavePath = o.Save,
            Picker = o.Picker,
            Storage = o.Storage,
            Peers = input.Peers,
            SuperSeeding = o.SuperSeed,
        };
        try
        {
            Directory.CreateDirectory(o.Save);
            return input.Meta is { } meta ? await session.AddAsync(meta, options, start: !o.SeedOnly) : await session.AddAsync(input.Magnet!, options);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot add the torrent: {e.Message}");
            return null;
        }
    }

    /// <summary><c>seed</c>: starts the torrent if its data is all there; otherwise says how much is (false).</summary>
    private static async Task<bool> StartSeedingAsync(ClientSession session, Torrent torrent, string id, Options o, TextWriter error)
    {
        var (snapshot, _) = await SnapshotAsync(session, id);
        if (!IsComplete(snapshot!))
        {
            await error.WriteLineAsync($"Only {snapshot!.PiecesHave} of {snapshot.PieceCount} pieces of '{snapshot.Name}' are in {o.Save}; use 'rtorrent download' to complete it.");
            return false;
        }
        await torrent.StartAsync();
        return true;
    }

    /// <summary>With RTORRENT_STATS=1, one line of what the run cost (the benchmarks read it).</summary>
    private static async Task WriteStatsAsync(TextWriter error)
    {
        if (Environment.GetEnvironmentVariable("RTORRENT_STATS") != "1") return;
        var p = System.Diagnostics.Process.GetCurrentProcess();
        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"stats: cpu {p.TotalProcessorTime.TotalSeconds:0.00} s (user {p.UserProcessorTime.TotalSeconds:0.00}), allocated {GC.GetTotalAllocatedBytes() / 1048576.0:0.0} MiB, gc0 {GC.CollectionCount(0)} gc1 {GC.CollectionCount(1)} gc2 {GC.CollectionCount(2)}, jit {System.Runtime.JitInfo.GetCompiledMethodCount()} methods {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:0.00} s, threads {p.Threads.Count}"));
    }

    private static bool TryParseEndPoint(string text, out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (IPEndPoint.TryParse(text, out var ep) && ep.Port > 0)
        {
            endPoint = ep;
            return true;
        }
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out int port) || port is <= 0 or > 65535) return false;
        try
        {
            var addr = Dns.GetHostAddresses(text[..colon]).FirstOrDefault();
            if (addr is null) return false;
            endPoint = new IPEndPoint(addr, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Engine logs as plain lines on stderr (--verbose).</summary>
    private sealed class StderrLoggerFactory(TextWriter error) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) { }
        public ILogger CreateLogger(string categoryName) => new Logger(error, categoryName);
        public void Dispose() { }

        private sealed class Logger(TextWriter error, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (error) error.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            }
        }
    }
}

/// <summary>The user's folders (XDG base directories).</summary>
internal static class Paths
{
    /// <summary>$XDG_DATA_HOME, default ~/.local/share.</summary>
    public static string DataHome() =>
        Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");

    /// <summary>$XDG_CONFIG_HOME, default ~/.config.</summary>
    public static string ConfigHome() =>
        Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
}
