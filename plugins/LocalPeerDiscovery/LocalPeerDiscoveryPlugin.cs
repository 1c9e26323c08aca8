using RTorrent.Abstractions;

namespace RTorrent.Plugins.LocalPeerDiscovery;

/// <summary>Registers the <c>lsd</c> peer source (BEP 14 Local Service Discovery).</summary>
public sealed class LocalPeerDiscoveryPlugin : IRTorrentPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry) =>
        registry.AddPeerSource(new LsdPeerSourceFactory(LsdOptions.FromHost(registry.Host), registry.Host));
}

/// <summary>
/// Creates LSD peer sources. One factory is one LSD client: its torrents share one set of sockets and one cookie.
/// Nothing touches the network until the first source starts.
/// </summary>
public sealed class LsdPeerSourceFactory : IPeerSourceFactory
{
    private readonly LsdService _service;

    /// <summary>Creates the factory.</summary>
    /// <param name="options">Settings; BEP 14's defaults when null.</param>
    /// <param name="host">For log lines; may be null.</param>
    /// <param name="time">Clock for the announce schedule; <see cref="TimeProvider.System"/> when null.</param>
    public LsdPeerSourceFactory(LsdOptions? options = null, IPluginHost? host = null, TimeProvider? time = null)
    {
        Options = options ?? new LsdOptions();
        _service = new LsdService(Options, host, time ?? TimeProvider.System);
    }

    /// <summary>The options in use.</summary>
    public LsdOptions Options { get; }

    /// <summary>This client's cookie (announces carrying it are ours and are ignored when they come back).</summary>
    public string Cookie => _service.Cookie;

    /// <inheritdoc />
    public string Name => "lsd";

    /// <inheritdoc />
    public string Version => typeof(LsdPeerSourceFactory).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    /// <inheritdoc />
    public string Description => "Local Service Discovery (BEP 14): finds peers on the local network by multicast.";

    /// <inheritdoc />
    /// <remarks>No: announcing a private torrent's info-hash on the LAN would leak it outside its tracker (BEP 27).</remarks>
    public bool AllowedForPrivateTorrents => false;

    /// <inheritdoc />
    public IPeerSource Create(PeerSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsPrivate) throw new InvalidOperationException("LSD is never used for private torrents (BEP 27).");
        return new LsdPeerSource(_service, context);
    }
}
