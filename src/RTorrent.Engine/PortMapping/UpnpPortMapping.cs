using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// Port mapping through a UPnP Internet gateway device: SSDP discovery, the device description, then SOAP
/// AddPortMapping / DeletePortMapping / GetExternalIPAddress on its WAN connection service. The service is kept
/// between calls and discovered again after a failure. A router that only takes permanent leases (error 725) gets
/// lease 0 from then on, as libtorrent does; such a mapping is not renewed, only checked again from time to time.
/// </summary>
public sealed class UpnpPortMapping : IPortMappingProtocol, IDisposable
{
    /// <summary>The description routers show for our mappings.</summary>
    public const string Description = "RTorrent";

    /// <summary>The largest SOAP answer or description read.</summary>
    public const int MaxResponseSize = UpnpDescription.MaxSize;

    private readonly SsdpDiscovery _ssdp;
    private readonly Func<IPAddress?> _findGateway;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _discovering = new(1, 1);
    // One reference, so a reader never sees half of a discovery another thread just made.
    private volatile Found? _found;

    private sealed record Found(UpnpService Service, IPAddress Local);
    private volatile bool _permanentOnly;

    /// <summary>A mapper that discovers with <paramref name="ssdp"/> from our address towards the gateway.</summary>
    public UpnpPortMapping(SsdpDiscovery ssdp, Func<IPAddress?> findGateway, ILogger logger, TimeSpan? requestTimeout = null)
    {
        _ssdp = ssdp;
        _findGateway = findGateway;
        _logger = logger;
        // Straight to the router: never through a proxy the environment names, never redirected elsewhere.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false })
        {
            Timeout = requestTimeout ?? TimeSpan.FromSeconds(5),
            MaxResponseContentBufferSize = MaxResponseSize,
        };
    }

    /// <inheritdoc/>
    public string Name => "UPnP";

    /// <summary>The service in use, once discovered (tests).</summary>
    public UpnpService? Service => _found?.Service;

    /// <inheritdoc/>
    public async Task<PortMappingLease> MapAsync(MappingTransport transport, int internalPort, int externalPort, TimeSpan lifetime,
        CancellationToken cancellationToken)
    {
        var (service, local) = await FindAsync(cancellationToken).ConfigureAwait(false);
        int lease = _permanentOnly ? 0 : (int)Math.Clamp(lifetime.TotalSeconds, 1, int.MaxValue);
        try
        {
            var (ok, body) = await CallAsync(service, "AddPortMapping",
                UpnpSoap.AddPortMapping(service.ServiceType, transport, externalPort, internalPort, local, Description, lease), cancellationToken).ConfigureAwait(false);
            if (!ok && UpnpSoap.ReadFault(body) is { Code: UpnpSoap.OnlyPermanentLeasesSupported } && lease != 0)
            {
                _logger.LogDebug("the gateway takes only permanent leases; mapping with lease 0");
                _permanentOnly = true;
                lease = 0;
                (ok, body) = await CallAsync(service, "AddPortMapping",
                    UpnpSoap.AddPortMapping(service.ServiceType, transport, externalPort, internalPort, local, Description, 0), cancellationToken).ConfigureAwait(false);
            }
            if (!ok)
            {
                var fault = UpnpSoap.ReadFault(body);
                throw new PortMappingException(fault is { Code: UpnpSoap.ConflictInMappingEntry }
                    ? $"the gateway maps {Upper(transport)} port {externalPort} to another device ({fault})"
                    : $"the gateway refused to map {Upper(transport)} port {externalPort}: {fault?.ToString() ?? "no reason given"}");
            }
            IPAddress? external = null;
            var (gotAddress, answer) = await CallAsync(service, "GetExternalIPAddress", UpnpSoap.GetExternalIPAddress(service.ServiceType), cancellationToken)
                .ConfigureAwait(false);
            if (gotAddress) external = UpnpSoap.ReadExternalAddress(answer);
            return new PortMappingLease(transport, internalPort, externalPort, external, TimeSpan.FromSeconds(lease), "UPnP");
        }
        catch (PortMappingException)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // The router went away or changed address: look for it again next time.
            _found = null;
            throw new PortMappingException($"the gateway at {service.ControlUrl.Authority} did not answer: {e.Message}", e, noGateway: true);
        }
    }

    /// <inheritdoc/>
    public async Task UnmapAsync(PortMappingLease lease, CancellationToken cancellationToken)
    {
        if (_found is not { } found) throw new PortMappingException("no UPnP gateway known");
        try
        {
            var (ok, body) = await CallAsync(found.Service, "DeletePortMapping",
                UpnpSoap.DeletePortMapping(found.Service.ServiceType, lease.Transport, lease.ExternalPort), cancellationToken).ConfigureAwait(false);
            // Gone already (the router restarted, or NAT-PMP/PCP removed the same rule first): what removing wants.
            if (!ok && UpnpSoap.ReadFault(body) is not { Code: UpnpSoap.NoSuchEntryInArray })
                throw new PortMappingException($"the gateway refused to remove {Upper(lease.Transport)} port {lease.ExternalPort}: {UpnpSoap.ReadFault(body)}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new PortMappingException($"the gateway at {found.Service.ControlUrl.Authority} did not answer: {e.Message}", e);
        }
    }

    private static string Upper(MappingTransport t) => t == MappingTransport.Udp ? "UDP" : "TCP";

    private async Task<(UpnpService, IPAddress)> FindAsync(CancellationToken cancellationToken)
    {
        if (_found is { } known) return (known.Service, known.Local);
        await _discovering.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_found is { } again) return (again.Service, again.Local);
            IPAddress? local = null;
            if (_findGateway() is { } gateway)
            {
                try { local = DefaultGateway.LocalAddressTowards(gateway); }
                catch (SocketException) { /* let the system choose */ }
            }
            IReadOnlyList<Uri> locations;
            try
            {
                locations = await _ssdp.DiscoverAsync(local, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new PortMappingException($"SSDP discovery failed: {e.Message}", e, noGateway: true);
            }
            if (locations.Count == 0) throw new PortMappingException("no UPnP gateway answered SSDP discovery", noGateway: true);
            PortMappingException? last = null;
            foreach (var location in locations.Take(4))
            {
                try
                {
                    using var response = await _http.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                    if (!response.IsSuccessStatusCode) throw new PortMappingException($"{location} answered HTTP {(int)response.StatusCode}");
                    var service = UpnpDescription.Parse(await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false), location);
                    var towards = DefaultGateway.LocalAddressTowards(IPAddress.Parse(service.ControlUrl.Host.Trim('[', ']')));
                    _logger.LogDebug("UPnP gateway {Service} at {Url}", service.ServiceType, service.ControlUrl);
                    _found = new Found(service, towards);
                    return (service, towards);
                }
                catch (PortMappingException e) { last = e; }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or SocketException or FormatException
                    && !cancellationToken.IsCancellationRequested)
                {
                    last = new PortMappingException($"{location}: {e.Message}", e);
                }
            }
            throw new PortMappingException(last!.Message, last, noGateway: true);
        }
        finally
        {
            _discovering.Release();
        }
    }

    private async Task<(bool Ok, string Body)> CallAsync(UpnpService service, string action, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, service.ControlUrl)
        {
            Content = new StringContent(body, Encoding.UTF8, "text/xml"),
        };
        request.Content.Headers.ContentType!.CharSet = "\"utf-8\"";
        request.Headers.TryAddWithoutValidation("SOAPAction", UpnpSoap.ActionHeader(service.ServiceType, action));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        string text = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
        // A fault is HTTP 500 with a SOAP body; any other failure has no UPnP error code to read.
        if (!response.IsSuccessStatusCode && (int)response.StatusCode != 500)
            throw new PortMappingException($"{action}: the gateway answered HTTP {(int)response.StatusCode}");
        return (response.IsSuccessStatusCode, text);
    }

    /// <summary>Reads a body of at most <see cref="MaxResponseSize"/> bytes.</summary>
    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseSize)
            throw new PortMappingException($"the gateway's answer of {response.Content.Headers.ContentLength} bytes is larger than {MaxResponseSize}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxResponseSize + 1];
        int total = 0, n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0) total += n;
        if (total > MaxResponseSize) throw new PortMappingException($"the gateway's answer is larger than {MaxResponseSize} bytes");
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _http.Dispose();
        _discovering.Dispose();
    }
}
