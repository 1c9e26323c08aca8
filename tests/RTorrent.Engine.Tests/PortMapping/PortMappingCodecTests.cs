using System.Buffers.Binary;
using System.Net;
using System.Text;
using RTorrent.Engine.PortMapping;

namespace RTorrent.Engine.Tests.PortMapping;

/// <summary>The wire formats of NAT-PMP, PCP, SSDP and UPnP SOAP, and the default gateway from /proc/net/route.</summary>
public sealed class PortMappingCodecTests
{
    // ------------------------------------------------------------------ NAT-PMP (RFC 6886)

    [Fact]
    public void NatPmp_map_request_is_rfc_6886s_twelve_bytes()
    {
        byte[] tcp = NatPmpCodec.MapRequest(MappingTransport.Tcp, 6890, 6891, 7200);
        Assert.Equal([0, 2, 0, 0, 0x1a, 0xea, 0x1a, 0xeb, 0, 0, 0x1c, 0x20], tcp);
        Assert.Equal(1, NatPmpCodec.MapRequest(MappingTransport.Udp, 1, 1, 0)[1]);
        Assert.Equal([0, 0], NatPmpCodec.ExternalAddressRequest());
    }

    private static byte[] NatPmpMapAnswer(int opcode, int result, int internalPort, int externalPort, uint lifetime)
    {
        var b = new byte[16];
        b[1] = (byte)(128 + opcode);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)result);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 1234);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(8), (ushort)internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), (ushort)externalPort);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), lifetime);
        return b;
    }

    [Fact]
    public void NatPmp_answers_are_read_and_refusals_say_why()
    {
        Assert.Equal((40000, 3600u), NatPmpCodec.ParseMap(NatPmpMapAnswer(2, 0, 6890, 40000, 3600), MappingTransport.Tcp, 6890));
        var refused = Assert.Throws<PortMappingException>(() => NatPmpCodec.ParseMap(NatPmpMapAnswer(1, 2, 6890, 0, 0), MappingTransport.Udp, 6890));
        Assert.Contains("not authorized", refused.Message, StringComparison.Ordinal);
        Assert.Throws<PortMappingException>(() => NatPmpCodec.ParseMap(NatPmpMapAnswer(1, 0, 6890, 1, 1), MappingTransport.Tcp, 6890)); // UDP's opcode
        Assert.Throws<PortMappingException>(() => NatPmpCodec.ParseMap(NatPmpMapAnswer(2, 0, 6999, 1, 1), MappingTransport.Tcp, 6890)); // another port
        Assert.Throws<PortMappingException>(() => NatPmpCodec.ParseMap(NatPmpMapAnswer(2, 0, 6890, 1, 1)[..12], MappingTransport.Tcp, 6890)); // short
        Assert.Throws<PortMappingException>(() => NatPmpCodec.ParseMap([0, 130], MappingTransport.Tcp, 6890));
        byte[] address = [0, 128, 0, 0, 0, 0, 0, 9, 203, 0, 113, 7];
        Assert.Equal(IPAddress.Parse("203.0.113.7"), NatPmpCodec.ParseExternalAddress(address));
    }

    // ------------------------------------------------------------------ PCP (RFC 6887)

    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    [Fact]
    public void Pcp_map_request_is_rfc_6887s_sixty_bytes()
    {
        byte[] r = PcpCodec.MapRequest(Nonce, MappingTransport.Udp, 6890, 6891, 7200, IPAddress.Parse("192.168.1.20"));
        Assert.Equal(60, r.Length);
        Assert.Equal(2, r[0]);
        Assert.Equal(1, r[1]); // R bit clear, MAP
        Assert.Equal(7200u, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(4)));
        Assert.Equal(IPAddress.Parse("::ffff:192.168.1.20"), new IPAddress(r.AsSpan(8, 16)));
        Assert.Equal(Nonce, r[24..36]);
        Assert.Equal(17, r[36]);
        Assert.Equal(6890, BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(40)));
        Assert.Equal(6891, BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(42)));
        Assert.Equal(IPAddress.Parse("::ffff:0.0.0.0"), new IPAddress(r.AsSpan(44, 16))); // any IPv4 address
        Assert.Equal(6, PcpCodec.MapRequest(Nonce, MappingTransport.Tcp, 1, 1, 1, IPAddress.Loopback)[36]);
        Assert.Throws<ArgumentException>(() => PcpCodec.MapRequest(Nonce[..8], MappingTransport.Tcp, 1, 1, 1, IPAddress.Loopback));
    }

    internal static byte[] PcpAnswer(byte[] request, int result, uint lifetime, int externalPort, IPAddress external)
    {
        var b = (byte[])request.Clone();
        b[1] = 0x81;
        b[2] = 0;
        b[3] = (byte)result;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), lifetime);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), 77); // epoch
        b.AsSpan(12, 12).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(42), (ushort)externalPort);
        PcpCodec.WriteAddress(b.AsSpan(44, 16), external);
        return b;
    }

    [Fact]
    public void Pcp_answers_are_checked_against_the_request_before_anything_is_taken()
    {
        byte[] request = PcpCodec.MapRequest(Nonce, MappingTransport.Tcp, 6890, 6890, 3600, IPAddress.Parse("10.0.0.2"));
        var ok = PcpCodec.ParseMap(PcpAnswer(request, 0, 1800, 40001, IPAddress.Parse("198.51.100.9")), Nonce, MappingTransport.Tcp, 6890);
        Assert.Equal(new PcpCodec.MapAnswer(40001, IPAddress.Parse("198.51.100.9"), 1800, 77), ok);

        byte[] otherNonce = [.. Nonce.Reverse()];
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(PcpAnswer(request, 0, 1, 1, IPAddress.Any), otherNonce, MappingTransport.Tcp, 6890));
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(PcpAnswer(request, 0, 1, 1, IPAddress.Any), Nonce, MappingTransport.Udp, 6890));
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(PcpAnswer(request, 0, 1, 1, IPAddress.Any), Nonce, MappingTransport.Tcp, 6891));
        var refused = Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(PcpAnswer(request, 8, 30, 0, IPAddress.Any), Nonce, MappingTransport.Tcp, 6890));
        Assert.Contains("PCP result 8: no resources", refused.Message, StringComparison.Ordinal);
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(PcpAnswer(request, 0, 1, 1, IPAddress.Any)[..40], Nonce, MappingTransport.Tcp, 6890));
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(new byte[PcpCodec.MaxMessageSize + 4], Nonce, MappingTransport.Tcp, 6890));
        Assert.Throws<PortMappingException>(() => PcpCodec.ParseMap(request, Nonce, MappingTransport.Tcp, 6890)); // our own request echoed: R bit clear
    }

    [Fact]
    public void A_natpmp_gateways_answer_to_pcp_asks_for_the_fallback()
    {
        // RFC 6887 §9: a NAT-PMP server answers version 2 with its version 0 and result 1 (unsupported version).
        Assert.Equal(0, Assert.Throws<PcpVersionException>(() => PcpCodec.ParseMap([0, 129, 0, 1, 0, 0, 0, 5], Nonce, MappingTransport.Tcp, 1)).Version);
        byte[] request = PcpCodec.MapRequest(Nonce, MappingTransport.Tcp, 1, 1, 1, IPAddress.Loopback);
        Assert.Throws<PcpVersionException>(() => PcpCodec.ParseMap(PcpAnswer(request, 1, 0, 0, IPAddress.Any), Nonce, MappingTransport.Tcp, 1));
    }

    // ------------------------------------------------------------------ SSDP

    private static readonly IPAddress Router = IPAddress.Parse("192.168.77.1");

    [Fact]
    public void Ssdp_search_is_an_m_search_with_the_target()
    {
        string text = Encoding.ASCII.GetString(SsdpDiscovery.SearchRequest("urn:schemas-upnp-org:device:InternetGatewayDevice:1"));
        Assert.StartsWith("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n", text, StringComparison.Ordinal);
        Assert.Contains("MAN: \"ssdp:discover\"\r\n", text, StringComparison.Ordinal);
        Assert.Contains("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Ssdp_location_is_taken_only_from_a_200_answer_naming_the_sender_over_http()
    {
        static byte[] Answer(string status, string location) => Encoding.ASCII.GetBytes(
            $"{status}\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n{location}\r\n\r\n");
        Assert.Equal(new Uri("http://192.168.77.1:5555/rootDesc.xml"),
            SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "LOCATION: http://192.168.77.1:5555/rootDesc.xml"), Router));
        Assert.NotNull(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "Location:http://192.168.77.1/d.xml"), Router)); // any case, no space
        Assert.NotNull(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "LOCATION: http://192.168.77.1/d.xml"), Router.MapToIPv6()));
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "LOCATION: http://10.9.9.9/d.xml"), Router)); // elsewhere
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "LOCATION: http://router.example/d.xml"), Router));
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "LOCATION: file:///etc/passwd"), Router));
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 404 Not Found", "LOCATION: http://192.168.77.1/d.xml"), Router));
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("NOTIFY * HTTP/1.1", "LOCATION: http://192.168.77.1/d.xml"), Router));
        Assert.Null(SsdpDiscovery.ParseLocation(Answer("HTTP/1.1 200 OK", "SERVER: x"), Router));
        Assert.Null(SsdpDiscovery.ParseLocation("\0\0garbage"u8, Router));
        Assert.Null(SsdpDiscovery.ParseLocation(new byte[SsdpDiscovery.MaxAnswerSize + 1], Router));
    }

    // ------------------------------------------------------------------ device description

    internal const string MiniupnpdDescription = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337">
          <specVersion><major>1</major><minor>1</minor></specVersion>
          <device>
            <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
            <friendlyName>Debian router</friendlyName>
            <serviceList>
              <service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><controlURL>/ctl/L3F</controlURL></service>
            </serviceList>
            <deviceList>
              <device>
                <deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
                <serviceList>
                  <service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType><controlURL>/ctl/CmnIfCfg</controlURL></service>
                </serviceList>
                <deviceList>
                  <device>
                    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
                    <serviceList>
                      <service>
                        <serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
                        <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
                        <SCPDURL>/WANIPCn.xml</SCPDURL>
                        <controlURL>/ctl/IPConn</controlURL>
                        <eventSubURL>/evt/IPConn</eventSubURL>
                      </service>
                    </serviceList>
                  </device>
                </deviceList>
              </device>
            </deviceList>
          </device>
        </root>
        """;

    private static readonly Uri Location = new("http://192.168.77.1:5555/rootDesc.xml");

    [Fact]
    public void The_wan_connection_service_is_found_in_nested_devices()
    {
        var service = UpnpDescription.Parse(MiniupnpdDescription, Location);
        Assert.Equal("urn:schemas-upnp-org:service:WANIPConnection:2", service.ServiceType);
        Assert.Equal(new Uri("http://192.168.77.1:5555/ctl/IPConn"), service.ControlUrl);
    }

    [Fact]
    public void WANIPConnection_is_preferred_to_ppp_and_urlbase_and_adjacent_elements_are_read()
    {
        // controlURL right after serviceType (no serviceId between): reading one element's text must not skip the next.
        string xml = """
            <root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://192.168.77.1:49000/</URLBase><device><serviceList>
            <service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType><controlURL>ppp</controlURL></service>
            <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>upnp/control/ip</controlURL></service>
            </serviceList></device></root>
            """;
        var service = UpnpDescription.Parse(xml, Location);
        Assert.Equal("urn:schemas-upnp-org:service:WANIPConnection:1", service.ServiceType);
        Assert.Equal(new Uri("http://192.168.77.1:49000/upnp/control/ip"), service.ControlUrl);
        string pppOnly = xml.Replace("WANIPConnection", "Other", StringComparison.Ordinal);
        Assert.Equal("urn:schemas-upnp-org:service:WANPPPConnection:1", UpnpDescription.Parse(pppOnly, Location).ServiceType);
    }

    [Fact]
    public void Hostile_descriptions_are_refused_with_a_reason()
    {
        // A DTD (entity expansion, external entities) is never processed.
        string laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE root [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
            <root><device><serviceList><service><serviceType>&c;</serviceType><controlURL>/x</controlURL></service></serviceList></device></root>
            """;
        Assert.Contains("not usable XML", Assert.Throws<PortMappingException>(() => UpnpDescription.Parse(laughs, Location)).Message, StringComparison.Ordinal);
        string external = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>""";
        Assert.Throws<PortMappingException>(() => UpnpDescription.Parse(external, Location));
        // Larger than the cap.
        string huge = "<root>" + new string(' ', UpnpDescription.MaxSize) + "<x/></root>";
        Assert.Throws<PortMappingException>(() => UpnpDescription.Parse(huge, Location));
        // A control address on another host, or not http.
        string elsewhere = MiniupnpdDescription.Replace("<controlURL>/ctl/IPConn</controlURL>", "<controlURL>http://10.0.0.66/ctl</controlURL>", StringComparison.Ordinal);
        Assert.Contains("not http on 192.168.77.1", Assert.Throws<PortMappingException>(() => UpnpDescription.Parse(elsewhere, Location)).Message, StringComparison.Ordinal);
        // No WAN connection at all, or not XML.
        Assert.Contains("no WANIPConnection", Assert.Throws<PortMappingException>(() =>
            UpnpDescription.Parse("<root><device/></root>", Location)).Message, StringComparison.Ordinal);
        Assert.Throws<PortMappingException>(() => UpnpDescription.Parse("HTTP/1.1 garbage <<<", Location));
    }

    // ------------------------------------------------------------------ SOAP

    private const string Service = "urn:schemas-upnp-org:service:WANIPConnection:1";

    [Fact]
    public void Soap_bodies_carry_the_arguments_in_order_and_escaped()
    {
        string add = UpnpSoap.AddPortMapping(Service, MappingTransport.Udp, 6891, 6890, IPAddress.Parse("192.168.77.2"), "R<&>T", 3600);
        Assert.Contains($"<u:AddPortMapping xmlns:u=\"{Service}\">", add, StringComparison.Ordinal);
        Assert.Contains("<NewRemoteHost></NewRemoteHost><NewExternalPort>6891</NewExternalPort><NewProtocol>UDP</NewProtocol>" +
            "<NewInternalPort>6890</NewInternalPort><NewInternalClient>192.168.77.2</NewInternalClient><NewEnabled>1</NewEnabled>" +
            "<NewPortMappingDescription>R&lt;&amp;&gt;T</NewPortMappingDescription><NewLeaseDuration>3600</NewLeaseDuration>", add, StringComparison.Ordinal);
        Assert.Contains("<NewExternalPort>6890</NewExternalPort><NewProtocol>TCP</NewProtocol></u:DeletePortMapping>",
            UpnpSoap.DeletePortMapping(Service, MappingTransport.Tcp, 6890), StringComparison.Ordinal);
        Assert.Contains("<u:GetExternalIPAddress xmlns:u=", UpnpSoap.GetExternalIPAddress(Service), StringComparison.Ordinal);
        Assert.Equal($"\"{Service}#AddPortMapping\"", UpnpSoap.ActionHeader(Service, "AddPortMapping"));
        // What we send is XML a router can read.
        Assert.Empty(UpnpSoap.ReadValues(add, "nothing"));
    }

    internal static string FaultBody(int code, string description) => $"""
        <?xml version="1.0"?>
        <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
        <s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>
        <UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode><errorDescription>{description}</errorDescription></UPnPError>
        </detail></s:Fault></s:Body></s:Envelope>
        """;

    [Fact]
    public void Soap_answers_and_faults_are_read()
    {
        var fault = UpnpSoap.ReadFault(FaultBody(725, "OnlyPermanentLeasesSupported"));
        Assert.Equal(new UpnpSoap.Fault(725, "OnlyPermanentLeasesSupported"), fault);
        Assert.Equal("UPnP error 725 (OnlyPermanentLeasesSupported)", fault!.ToString());
        string answer = """
            <?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
            <u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"><NewExternalIPAddress>11.77.0.1</NewExternalIPAddress></u:GetExternalIPAddressResponse>
            </s:Body></s:Envelope>
            """;
        Assert.Equal(IPAddress.Parse("11.77.0.1"), UpnpSoap.ReadExternalAddress(answer));
        Assert.Null(UpnpSoap.ReadFault(answer));
        Assert.Null(UpnpSoap.ReadExternalAddress(answer.Replace("11.77.0.1", "", StringComparison.Ordinal))); // not connected
        Assert.Throws<PortMappingException>(() => UpnpSoap.ReadFault("<!DOCTYPE x [<!ENTITY e \"e\">]><x>&e;</x>"));
    }

    // ------------------------------------------------------------------ default gateway

    [Fact]
    public void The_default_gateway_is_read_from_proc_net_route()
    {
        const string route = """
            Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
            wlan0	00000000	FE01A8C0	0003	0	0	600	00000000	0	0	0
            eth0	00000000	010200C0	0003	0	0	100	00000000	0	0	0
            eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
            tun0	00000000	00000000	0001	0	0	50	00000000	0	0	0
            broken	line
            """;
        // The lowest metric with a gateway wins; a default route without a gateway (a tunnel) is no gateway to ask.
        Assert.Equal(IPAddress.Parse("192.0.2.1"), DefaultGateway.ParseProcNetRoute(route));
        Assert.Null(DefaultGateway.ParseProcNetRoute("Iface\tDestination\n"));
        Assert.Null(DefaultGateway.ParseProcNetRoute("Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 000200C0 010200C0 0003 0 0 0 00FFFFFF\n"));
    }
}
