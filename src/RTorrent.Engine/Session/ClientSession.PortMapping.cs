using System.Net;
using Microsoft.Extensions.Logging;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.PortMapping;

namespace RTorrent.Engine.Session;

// Port mapping (docs/PORT-MAPPING.md): the session keeps its listen port forwarded while portForwardingEnabled is on.
public sealed partial class ClientSession
{
    private readonly SemaphoreSlim _portMappingGate = new(1, 1);
    private PortMapper? _portMapper;
    private IReadOnlyList<IPortMappingProtocol> _portMappingProtocols = [];
    private PortMappingStatus _portMappingStatus = PortMappingStatus.Off;

    /// <summary>What the router forwards to the listen port, or why nothing; <see cref="PortMappingStatus.Off"/> while switched off.</summary>
    public PortMappingStatus PortMapping => Volatile.Read(ref _portMappingStatus);

    /// <summary>
    /// Starts or stops keeping the listen port forwarded (settings.json <c>portForwardingEnabled</c>, applied live).
    /// Stopping removes the mappings made. A session listening only on loopback maps nothing and says so.
    /// </summary>
    public async Task SetPortForwardingAsync(bool enabled)
    {
        await _portMappingGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!enabled)
            {
                if (_portMapper is { } mapper)
                {
                    await mapper.StopAsync().ConfigureAwait(false);
                    foreach (var p in _portMappingProtocols) (p as IDisposable)?.Dispose();
                    _portMapper = null;
                    _portMappingProtocols = [];
                }
                Volatile.Write(ref _portMappingStatus, PortMappingStatus.Off);
                return;
            }
            if (_portMapper is not null) return;
            if (!_options.Engine.Proxy.DirectListeningAllowed)
            {
                // Asking the router to forward a port we do not listen on would also talk to it directly (docs/PROXIES.md).
                Volatile.Write(ref _portMappingStatus, new PortMappingStatus
                {
                    State = PortMappingState.Failed,
                    Error = "proxy only: nothing listens for incoming peers, so no port is forwarded",
                });
                return;
            }
            if (_options.Engine.ListenAddress is { } bound && IPAddress.IsLoopback(bound))
            {
                Volatile.Write(ref _portMappingStatus, new PortMappingStatus
                {
                    State = PortMappingState.Failed,
                    Error = "the session listens on loopback only: there is no port to forward",
                });
                return;
            }
            var logger = _loggers.CreateLogger("rtorrent.portmap");
            _portMappingProtocols = _options.PortMappingProtocols?.Invoke() ??
            [
                new UpnpPortMapping(new SsdpDiscovery(_options.Time), DefaultGateway.Find, logger),
                new PmpPortMapping(DefaultGateway.Find, new GatewayExchange(_options.Time), logger),
            ];
            var created = new PortMapper(_portMappingProtocols, _options.Time, logger, _options.PortMapper);
            created.StatusChanged += status =>
            {
                var before = Interlocked.Exchange(ref _portMappingStatus, status);
                // A failure is worth a line in the session log once, not at every retry.
                if (status.State == PortMappingState.Failed && (before.State != PortMappingState.Failed || before.Error != status.Error))
                    Keep(new LogEntry(_options.Time.GetUtcNow(), PluginLogLevel.Warning, $"port mapping failed: {status.Error}"));
            };
            _portMapper = created;
            created.Start(Engine.ListenPort);
        }
        finally
        {
            _portMappingGate.Release();
        }
    }
}
