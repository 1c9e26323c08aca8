using System.Xml;

namespace RTorrent.Engine.PortMapping;

/// <summary>A WAN connection service of an Internet gateway device: where to send its SOAP actions.</summary>
/// <param name="ServiceType">e.g. <c>urn:schemas-upnp-org:service:WANIPConnection:1</c>.</param>
/// <param name="ControlUrl">The absolute control address.</param>
public sealed record UpnpService(string ServiceType, Uri ControlUrl);

/// <summary>
/// Reads a gateway's device description (the XML at an SSDP LOCATION) and picks the WAN connection service to use:
/// WANIPConnection:2, then :1, then WANPPPConnection:1. The XML is read with DTDs prohibited, no resolver, and at most
/// <see cref="MaxSize"/> characters; the control address must be http on the description's own host.
/// </summary>
public static class UpnpDescription
{
    /// <summary>The largest description read (real ones are 2-10 KB).</summary>
    public const int MaxSize = 64 * 1024;

    private static readonly string[] Preferred =
    [
        "urn:schemas-upnp-org:service:WANIPConnection:2",
        "urn:schemas-upnp-org:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:WANPPPConnection:1",
    ];

    /// <summary>XML reader settings for anything a router sends: no DTD, no external entities, bounded size.</summary>
    public static XmlReaderSettings SafeSettings { get; } = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxSize,
        IgnoreComments = true,
        IgnoreWhitespace = true,
    };

    /// <summary>The service to use in <paramref name="xml"/> fetched from <paramref name="location"/>.</summary>
    /// <exception cref="PortMappingException">Not XML, too large, a DTD, or no WAN connection service on the same host.</exception>
    public static UpnpService Parse(string xml, Uri location)
    {
        var services = new List<(string Type, string Control)>();
        string? urlBase = null;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), SafeSettings);
            string? type = null, control = null;
            int depthOfService = -1;
            // Reading an element's text leaves the reader on the node after it, which must not be skipped.
            bool onNext = false;
            while (onNext || reader.Read())
            {
                onNext = false;
                if (reader.NodeType == XmlNodeType.Element)
                {
                    switch (reader.LocalName)
                    {
                        case "URLBase": urlBase = ReadText(reader); onNext = true; break;
                        case "service": depthOfService = reader.Depth; type = control = null; break;
                        case "serviceType" when depthOfService >= 0: type = ReadText(reader); onNext = true; break;
                        case "controlURL" when depthOfService >= 0: control = ReadText(reader); onNext = true; break;
                    }
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "service" && reader.Depth == depthOfService)
                {
                    if (type is not null && control is not null && services.Count < 64) services.Add((type, control));
                    depthOfService = -1;
                }
            }
        }
        catch (XmlException e)
        {
            throw new PortMappingException($"the gateway's description at {location} is not usable XML: {e.Message}", e);
        }
        foreach (var wanted in Preferred)
        {
            foreach (var (type, control) in services)
            {
                if (!string.Equals(type, wanted, StringComparison.Ordinal)) continue;
                var baseUri = urlBase is not null && Uri.TryCreate(urlBase, UriKind.Absolute, out var b) ? b : location;
                if (!Uri.TryCreate(baseUri, control, out var url) || url.Scheme != Uri.UriSchemeHttp || url.Host != location.Host)
                    throw new PortMappingException($"the gateway's control address '{control}' is not http on {location.Host}");
                return new UpnpService(type, url);
            }
        }
        throw new PortMappingException($"the device at {location} has no WANIPConnection or WANPPPConnection service");
    }

    private static string ReadText(XmlReader reader)
    {
        string text = reader.ReadElementContentAsString();
        return text.Trim();
    }
}
