using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A network namespace joined to this one by a veth pair that carries only IPv6: a unique-local /64 of its own
/// (fd7e:XXXX::/64), ::1 on our end and ::2 in the namespace, added with <c>nodad</c> so they are usable at once, and
/// no IPv4 address on either end. Disposing removes the namespace (which removes the veth pair with it).
/// </summary>
internal sealed class Ipv6OnlyNamespace : IDisposable
{
    private bool _disposed;

    private Ipv6OnlyNamespace(string name, string hostInterface, IPAddress hostAddress, IPAddress namespaceAddress)
    {
        Name = name;
        HostInterface = hostInterface;
        HostAddress = hostAddress;
        NamespaceAddress = namespaceAddress;
    }

    /// <summary>The namespace's name (for <c>ip netns exec</c>).</summary>
    public string Name { get; }

    /// <summary>Our end of the veth pair.</summary>
    public string HostInterface { get; }

    /// <summary>Our end's address.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>The namespace end's address.</summary>
    public IPAddress NamespaceAddress { get; }

    /// <summary>Creates it; fails the test with the command's error when the machine cannot (not root, no netns).</summary>
    public static Ipv6OnlyNamespace Create()
    {
        int id = Environment.ProcessId % 10000 * 10 + Random.Shared.Next(10);
        string name = $"rt6ns{id}", host = $"rt6h{id}", peer = $"rt6p{id}";
        string prefix = $"fd7e:{id & 0xFFFF:x}:{Random.Shared.Next(0x10000):x}:1";
        var ns = new Ipv6OnlyNamespace(name, host, IPAddress.Parse(prefix + "::1"), IPAddress.Parse(prefix + "::2"));
        try
        {
            Ip("netns", "add", name);
            Ip("link", "add", host, "type", "veth", "peer", "name", peer);
            Ip("link", "set", peer, "netns", name);
            Ip("addr", "add", $"{ns.HostAddress}/64", "dev", host, "nodad");
            Ip("link", "set", host, "up");
            Ip("-n", name, "link", "set", "lo", "up");
            Ip("-n", name, "addr", "add", $"{ns.NamespaceAddress}/64", "dev", peer, "nodad");
            Ip("-n", name, "link", "set", peer, "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>ip ARGS</c> and fails with its stderr when it fails.</summary>
    public static string Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/sbin/ip", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"ip {string.Join(' ', args)} did not finish in 10 s");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({p.ExitCode.ToString(CultureInfo.InvariantCulture)}): {error.Result.Trim()}");
        return output.Result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Deleting the namespace deletes the veth end in it, and with it our end.
        try { Ip("netns", "del", Name); } catch (InvalidOperationException) { }
        try { Ip("link", "del", HostInterface); } catch (InvalidOperationException) { }
    }
}
