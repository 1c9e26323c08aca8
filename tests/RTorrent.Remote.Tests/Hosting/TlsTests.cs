using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RTorrent.Engine.Session;
using RTorrent.Remote.Hosting;
using RTorrent.Remote.Native;
using RTorrent.Remote.Security;
using RTorrent.Remote.Tests.Infrastructure;

namespace RTorrent.Remote.Tests.Hosting;

/// <summary>HTTPS from a certificate in the settings, and a client that trusts exactly the certificate it is given.</summary>
public class TlsTests
{
    /// <summary>A self-signed certificate for 127.0.0.1 and localhost, with its private key.</summary>
    internal static X509Certificate2 SelfSigned(string name = "rtorrent test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12, so the key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static Task<TestServer> StartHttpsAsync(X509Certificate2 certificate) =>
        TestServer.StartAsync(o => o with { Certificate = certificate });

    private static RemoteTarget Target(TestServer server, X509Certificate2? trusted) =>
        RemoteTarget.Parse($"https://127.0.0.1:{server.Tcp.Port}/") with { TrustedCertificate = trusted };

    [Fact]
    public async Task A_client_trusting_the_daemons_certificate_connects()
    {
        using var certificate = SelfSigned();
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        await using var server = await StartHttpsAsync(certificate);
        using var backend = new RemoteBackend(Target(server, publicOnly));
        var hello = await backend.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(NativeProtocol.Version, hello.Protocol);
        Assert.Equal("test", hello.ProgramVersion);
        Assert.Equal(1, server.Native.Calls);
    }

    [Fact]
    public async Task A_client_without_it_or_trusting_another_certificate_does_not()
    {
        using var certificate = SelfSigned();
        using var other = SelfSigned("someone else");
        using var otherPublic = X509CertificateLoader.LoadCertificate(other.RawData);
        await using var server = await StartHttpsAsync(certificate);

        // Not "unavailable, retrying": no retry makes an untrusted certificate trusted, so the user is told what to do.
        using var untrusting = new RemoteBackend(Target(server, null));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => untrusting.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("--ca-cert", refused.Message, StringComparison.Ordinal);
        using var wrongTrust = new RemoteBackend(Target(server, otherPublic));
        await Assert.ThrowsAsync<InvalidOperationException>(() => wrongTrust.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, server.Native.Calls);
    }

    [Fact]
    public async Task The_TCP_endpoint_speaks_only_TLS_and_the_rules_apply_inside_it()
    {
        using var certificate = SelfSigned();
        await using var server = await StartHttpsAsync(certificate);

        // Plain HTTP to the HTTPS port gets no RPC answer.
        try
        {
            var plain = await RawHttp.SendAsync(server.Tcp, "POST", RpcServer.TransmissionPath,
                [("Host", server.HostHeader), (RpcGate.SessionIdHeader, server.SessionId)], Encoding.UTF8.GetBytes("""{"method":"echo"}"""));
            Assert.NotEqual(200, plain.Status);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or SocketException)
        {
            // dropped: fine
        }
        Assert.Equal(0, server.Transmission.Calls);

        // Over TLS, raw: the session-id handshake, then the answer.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Tcp, cts.Token);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false,
            (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cts.Token);
        byte[] body = Encoding.UTF8.GetBytes("""{"method":"echo"}""");
        string head = $"POST {RpcServer.TransmissionPath} HTTP/1.1\r\nHost: localhost:{server.Tcp.Port}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head).Concat(body).ToArray(), cts.Token);
        using var reader = new StreamReader(tls);
        string response = await reader.ReadToEndAsync(cts.Token);
        Assert.StartsWith("HTTP/1.1 409", response, StringComparison.Ordinal);
        Assert.Contains($"{RpcGate.SessionIdHeader}: {server.SessionId}", response, StringComparison.Ordinal);
    }
}
