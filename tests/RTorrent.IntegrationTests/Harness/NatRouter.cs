using System.Globalization;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Three network namespaces made by a test: a LAN host (192.168.77.2) behind a router that NATs it with nftables and
/// runs Debian's miniupnpd (UPnP IGD, NAT-PMP and PCP) with its nftables backend, and a WAN host (11.77.0.2) outside.
/// The router's outside address is 11.77.0.1: miniupnpd refuses to forward on a private or reserved outside address
/// (it says "Port forwarding is impossible"), so the WAN side uses a public-looking range that exists only inside these
/// namespaces (nothing here has a route to the machine's own network). Everything is removed in <see cref="DisposeAsync"/>:
/// miniupnpd killed by PID, the namespaces (and their veths) deleted.
/// </summary>
internal sealed class NatRouter : IAsyncDisposable
{
    public const string LanAddress = "192.168.77.2";
    public const string RouterLanAddress = "192.168.77.1";
    public const string ExternalAddress = "11.77.0.1";
    public const string WanAddress = "11.77.0.2";

    private readonly ITestOutputHelper? _log;
    private readonly List<string> _made = [];
    private RunningProcess? _miniupnpd;

    private NatRouter(string prefix, ITestOutputHelper? log)
    {
        _log = log;
        Lan = prefix + "lan";
        Router = prefix + "rtr";
        Wan = prefix + "wan";
        RouterInside = prefix + "ri";
        RouterOutside = prefix + "ro";
    }

    /// <summary>The namespaces' names.</summary>
    public string Lan { get; }
    public string Router { get; }
    public string Wan { get; }

    /// <summary>The router's interfaces (miniupnpd's listening_ip and ext_ifname).</summary>
    public string RouterInside { get; }
    public string RouterOutside { get; }

    /// <summary>Makes the namespaces, the NAT and starts miniupnpd (its own config file, in the foreground, by PID).</summary>
    public static async Task<NatRouter> StartAsync(TempFolder tmp, ITestOutputHelper? log)
    {
        Tools.Require("ip", "iproute2");
        Tools.Require("nft", "nftables");
        string miniupnpd = Tools.Require("/usr/sbin/miniupnpd", "miniupnpd");
        // Short and unique: interface names have at most 15 characters.
        string prefix = "rp" + (Environment.ProcessId % 10000).ToString(CultureInfo.InvariantCulture) + Random.Shared.Next(100).ToString(CultureInfo.InvariantCulture);
        var net = new NatRouter(prefix, log);
        try
        {
            await net.BuildAsync();
            string conf = tmp.PathOf("miniupnpd.conf");
            File.WriteAllText(conf, string.Join('\n',
                $"ext_ifname={net.RouterOutside}",
                $"listening_ip={net.RouterInside}",
                "http_port=5555",
                "enable_upnp=yes",
                "enable_natpmp=yes",
                "secure_mode=yes",
                "system_uptime=no",
                "min_lifetime=60",
                "max_lifetime=86400",
                $"lease_file={tmp.PathOf("miniupnpd.leases")}",
                "uuid=6c3b1f8e-0a4d-4f3e-9b7a-1d2c3e4f5a6b",
                // the nftables backend's defaults: table inet filter, chains miniupnpd, prerouting_miniupnpd, postrouting_miniupnpd
                $"allow 1024-65535 {LanAddress}/32 1024-65535",
                "deny 0-65535 0.0.0.0/0 0-65535",
                ""));
            net._miniupnpd = RunningProcess.Start("miniupnpd", "ip", ["netns", "exec", net.Router, miniupnpd, "-d", "-f", conf, "-P", tmp.PathOf("miniupnpd.pid")], log);
            await net._miniupnpd.WaitForLineAsync(l => l.Contains("Listening for NAT-PMP/PCP traffic", StringComparison.Ordinal), Limits.Startup,
                "miniupnpd to listen");
            return net;
        }
        catch
        {
            await net.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync()
    {
        foreach (var ns in new[] { Lan, Router, Wan })
        {
            await RunAsync("ip", "netns", "add", ns);
            _made.Add(ns);
            await RunAsync("ip", "-n", ns, "link", "set", "lo", "up");
        }
        await RunAsync("ip", "link", "add", RouterInside, "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Lan);
        await RunAsync("ip", "link", "add", RouterOutside, "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Wan);
        await RunAsync("ip", "-n", Lan, "addr", "add", LanAddress + "/24", "dev", "eth0");
        await RunAsync("ip", "-n", Lan, "link", "set", "eth0", "up");
        await RunAsync("ip", "-n", Lan, "route", "add", "default", "via", RouterLanAddress);
        await RunAsync("ip", "-n", Router, "addr", "add", RouterLanAddress + "/24", "dev", RouterInside);
        await RunAsync("ip", "-n", Router, "link", "set", RouterInside, "up");
        await RunAsync("ip", "-n", Router, "addr", "add", ExternalAddress + "/24", "dev", RouterOutside);
        await RunAsync("ip", "-n", Router, "link", "set", RouterOutside, "up");
        await RunAsync("ip", "netns", "exec", Router, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        await RunAsync("ip", "-n", Wan, "addr", "add", WanAddress + "/24", "dev", "eth0");
        await RunAsync("ip", "-n", Wan, "link", "set", "eth0", "up");
        // A home router: the LAN leaves masqueraded, nothing comes in unless miniupnpd's chains let it (policy drop).
        string rules = $$"""
            table inet filter {
              chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; iifname "{{RouterInside}}" accept; jump miniupnpd; }
              chain miniupnpd { }
              chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
              chain postrouting { type nat hook postrouting priority 100; policy accept; oifname "{{RouterOutside}}" masquerade; jump postrouting_miniupnpd; }
              chain prerouting_miniupnpd { }
              chain postrouting_miniupnpd { }
            }
            """;
        string file = Path.Combine(Path.GetTempPath(), $"{Router}.nft");
        File.WriteAllText(file, rules);
        try { await RunAsync("ip", "netns", "exec", Router, "nft", "-f", file); }
        finally { File.Delete(file); }
    }

    /// <summary>miniupnpd's DNAT rules now (the chain it adds forwards to).</summary>
    public Task<string> RedirectsAsync() => RunAsync("ip", "netns", "exec", Router, "nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd");

    /// <summary>Runs a program (no shell), bounded; fails on a non-zero exit with its output.</summary>
    public async Task<string> RunAsync(string program, params string[] args)
    {
        await using var p = RunningProcess.Start(Path.GetFileName(program), program, args, null);
        int code = await p.WaitForExitAsync(TimeSpan.FromSeconds(30));
        if (code != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {code}:\n{p.Tail()}");
        return p.StandardOutput;
    }

    /// <summary>Runs a program in a namespace and returns its output (exit code not checked).</summary>
    public async Task<(int Code, string Output)> RunInAsync(string ns, TimeSpan timeout, string program, params string[] args)
    {
        await using var p = RunningProcess.Start(Path.GetFileName(program), "ip", ["netns", "exec", ns, program, .. args], _log);
        int code = await p.WaitForExitAsync(timeout);
        return (code, p.StandardOutput + "\n" + p.StandardError);
    }

    public async ValueTask DisposeAsync()
    {
        if (_miniupnpd is not null) await _miniupnpd.DisposeAsync();
        foreach (var ns in _made)
        {
            try { await RunAsync("ip", "netns", "del", ns); }
            catch (Exception e) { _log?.WriteLine($"removing namespace {ns}: {e.Message}"); }
        }
    }
}
