using System.Net;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Session;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Our client in the test process (a <see cref="ClientSession"/> on 127.0.0.1 without DHT, PEX, LSD or plugins), for
/// tests that look inside: the torrent's log, its peers, hash failures, bans.
/// </summary>
internal sealed class InProcessClient : IAsyncDisposable
{
    private InProcessClient(ClientSession session) => Session = session;

    /// <summary>The session.</summary>
    public ClientSession Session { get; }

    /// <summary>Opens a session whose resume data goes to <paramref name="sessionDirectory"/>.</summary>
    /// <param name="proxy">The proxy settings (issue 16); direct when null.</param>
    public static async Task<InProcessClient> OpenAsync(string sessionDirectory, ITestOutputHelper? log, string logPrefix = "",
        RTorrent.Engine.Proxies.ProxyPolicy? proxy = null, PeerTransports? transports = null)
    {
        var session = await ClientSession.OpenAsync(new SessionOptions
        {
            SessionDirectory = sessionDirectory,
            Engine = new EngineConfig { ListenAddress = IPAddress.Loopback, ListenPort = 0, Proxy = proxy ?? RTorrent.Engine.Proxies.ProxyPolicy.Direct,
                Transports = transports ?? PeerTransports.Default },
            LoadPlugins = false,
            EnableDht = false,
            DhtUsePublicRouters = false,
            DisabledPeerSources = ["dht", "pex", "lsd"],
            LoggerFactory = log is null ? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance : new TestLoggerFactory(log, logPrefix),
        });
        return new InProcessClient(session);
    }

    /// <summary>Adds and starts a torrent saved in <paramref name="saveDirectory"/> that dials the given ports on 127.0.0.1.</summary>
    public Task<Torrent> AddAsync(TorrentMetainfo meta, string saveDirectory, params int[] peerPorts) =>
        Session.AddAsync(meta, new TorrentOptions
        {
            SavePath = saveDirectory,
            Peers = peerPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToArray(),
        });

    /// <summary>Waits until the torrent is complete and verified (seeding); fails with its details otherwise.</summary>
    public async Task WaitCompleteAsync(Torrent torrent, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(Torrent t)
        {
            if (!ReferenceEquals(t, torrent)) return;
            if (t.State == TorrentState.Seeding) done.TrySetResult();
            else if (t.State == TorrentState.Error) done.TrySetException(new InvalidOperationException($"The torrent failed: {t.Error}"));
        }
        Session.Engine.TorrentChanged += OnChanged;
        try
        {
            if (torrent.State == TorrentState.Seeding) return;
            await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Not complete within {timeout.TotalSeconds:0} s.\n{await DescribeAsync(torrent)}");
        }
        finally
        {
            Session.Engine.TorrentChanged -= OnChanged;
        }
    }

    /// <summary>The torrent's state, peers and log, for failure messages.</summary>
    public async Task<string> DescribeAsync(Torrent torrent)
    {
        var d = await Session.Engine.GetDetailsAsync(torrent);
        var s = d.Summary;
        return $"state {s.State} ({s.Error}), {s.PiecesHave}/{s.PieceCount} pieces, hash failures {s.HashFailures}\n"
               + "peers: " + string.Join("; ", d.Peers.Select(p => $"{p.Address} {p.Flags} out {p.RequestsOut}")) + "\n"
               + string.Join('\n', d.Log.Select(l => $"{l.Time:HH:mm:ss.fff} {l.Level} {l.Message}"));
    }

    /// <summary>Waits until the torrent's log has a line that matches; fails with the torrent's details otherwise.</summary>
    public async Task WaitForLogAsync(Torrent torrent, Func<string, bool> match, TimeSpan timeout, string what)
    {
        try
        {
            await Poll.UntilAsync(async () => (await LogAsync(torrent)).Any(match), timeout, what, TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await DescribeAsync(torrent)}", e);
        }
    }

    /// <summary>The torrent's log lines.</summary>
    public async Task<IReadOnlyList<string>> LogAsync(Torrent torrent) =>
        (await Session.Engine.GetDetailsAsync(torrent)).Log.Select(l => l.Message).ToArray();

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}
