using System.Globalization;
using System.Net;
using System.Security;
using System.Xml;

namespace RTorrent.Engine.PortMapping;

/// <summary>
/// The SOAP bodies of WANIPConnection's AddPortMapping, DeletePortMapping and GetExternalIPAddress, and the reading of
/// the answers and faults (UPnP error codes). Answers are read with <see cref="UpnpDescription.SafeSettings"/>.
/// </summary>
public static class UpnpSoap
{
    /// <summary>UPnP's error code when a lease must be 0 (permanent).</summary>
    public const int OnlyPermanentLeasesSupported = 725;

    /// <summary>UPnP's error code when there is no such mapping (to remove): it is gone already.</summary>
    public const int NoSuchEntryInArray = 714;

    /// <summary>UPnP's error code when the external port is mapped to another client.</summary>
    public const int ConflictInMappingEntry = 718;

    /// <summary>The value of the SOAPAction header.</summary>
    public static string ActionHeader(string serviceType, string action) => $"\"{serviceType}#{action}\"";

    /// <summary>AddPortMapping's body (lease 0 is permanent).</summary>
    public static string AddPortMapping(string serviceType, MappingTransport transport, int externalPort, int internalPort,
        IPAddress internalClient, string description, int leaseSeconds) => Envelope(serviceType, "AddPortMapping",
        ("NewRemoteHost", ""), ("NewExternalPort", Number(externalPort)), ("NewProtocol", Name(transport)),
        ("NewInternalPort", Number(internalPort)), ("NewInternalClient", internalClient.ToString()), ("NewEnabled", "1"),
        ("NewPortMappingDescription", description), ("NewLeaseDuration", Number(leaseSeconds)));

    /// <summary>DeletePortMapping's body.</summary>
    public static string DeletePortMapping(string serviceType, MappingTransport transport, int externalPort) => Envelope(serviceType,
        "DeletePortMapping", ("NewRemoteHost", ""), ("NewExternalPort", Number(externalPort)), ("NewProtocol", Name(transport)));

    /// <summary>GetExternalIPAddress's body.</summary>
    public static string GetExternalIPAddress(string serviceType) => Envelope(serviceType, "GetExternalIPAddress");

    private static string Name(MappingTransport transport) => transport == MappingTransport.Udp ? "UDP" : "TCP";

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Envelope(string serviceType, string action, params (string Name, string Value)[] arguments)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" ")
          .Append("s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:").Append(action)
          .Append(" xmlns:u=\"").Append(SecurityElement.Escape(serviceType)).Append("\">");
        foreach (var (name, value) in arguments)
            sb.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value)).Append("</").Append(name).Append('>');
        sb.Append("</u:").Append(action).Append("></s:Body></s:Envelope>\r\n");
        return sb.ToString();
    }

    /// <summary>A SOAP fault: UPnP's errorCode and errorDescription, when the body has them.</summary>
    public sealed record Fault(int? Code, string? Description)
    {
        /// <summary>"725 OnlyPermanentLeasesSupported" or what is known.</summary>
        public override string ToString() => (Code, Description) switch
        {
            ({ } c, { } d) => $"UPnP error {c} ({d})",
            ({ } c, null) => $"UPnP error {c}",
            (null, { } d) => d,
            _ => "a SOAP fault without an error code",
        };
    }

    /// <summary>The fault in an answer, or null when it has none.</summary>
    public static Fault? ReadFault(string xml)
    {
        var values = ReadValues(xml, "errorCode", "errorDescription", "faultstring");
        if (values.Count == 0) return null;
        int? code = values.TryGetValue("errorCode", out var c) && int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : null;
        values.TryGetValue("errorDescription", out var description);
        if (description is null) values.TryGetValue("faultstring", out description);
        return new Fault(code, description);
    }

    /// <summary>NewExternalIPAddress in GetExternalIPAddress's answer; null when empty (not connected) or not an address.</summary>
    public static IPAddress? ReadExternalAddress(string xml) =>
        ReadValues(xml, "NewExternalIPAddress").TryGetValue("NewExternalIPAddress", out var text) && IPAddress.TryParse(text, out var a) ? a : null;

    /// <summary>The text of the first elements with these local names (any namespace).</summary>
    /// <exception cref="PortMappingException">Not XML, too large or with a DTD.</exception>
    public static Dictionary<string, string> ReadValues(string xml, params string[] names)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), UpnpDescription.SafeSettings);
            bool onNext = false;
            while (onNext || reader.Read())
            {
                onNext = false;
                if (reader.NodeType != XmlNodeType.Element || Array.IndexOf(names, reader.LocalName) < 0 || found.ContainsKey(reader.LocalName)) continue;
                string name = reader.LocalName;
                found[name] = reader.ReadElementContentAsString().Trim();
                onNext = true;
            }
        }
        catch (XmlException e)
        {
            throw new PortMappingException($"the gateway's SOAP answer is not usable XML: {e.Message}", e);
        }
        return found;
    }
}
