using RTorrent.Testing;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RTorrent.Engine.Settings;
using static RTorrent.Remote.Tests.Transmission.A;

namespace RTorrent.Remote.Tests.Transmission;

/// <summary>
/// blocklist-enabled, blocklist-url, blocklist-size and blocklist-update against a list served by a local HTTP server:
/// set through session-set (saved in settings.json, validated), downloaded on blocklist-update, obeyed by the engine.
/// </summary>
public sealed class BlocklistRpcTests : IAsyncLifetime
{
    private TransmissionHarness _h = null!;
    private readonly LocalHttpServer _server = new();

    public async Task InitializeAsync() => _h = await TransmissionHarness.StartAsync();

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Blocklist_update_downloads_the_url_and_answers_the_new_size()
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
            z.Write(Encoding.UTF8.GetBytes("Org:198.51.100.0-198.51.100.255\n127.0.0.2\n2001:db8::/32\nnot a rule\n"));
        _server.Serve(gz.ToArray());

        await _h.OkAsync("session-set", Args(("blocklist-url", _server.Url), ("blocklist-enabled", true)));
        var saved = await SettingsStore.LoadAsync(_h.SessionDir);
        Assert.Equal((true, _server.Url), (saved.BlocklistEnabled, saved.BlocklistUrl));

        var update = await _h.OkAsync("blocklist-update");
        Assert.Equal(3, update.Arguments.GetProperty("blocklist-size").GetInt32());
        var get = (await _h.OkAsync("session-get", Args(("fields", new[] { "blocklist-enabled", "blocklist-url", "blocklist-size" })))).Arguments;
        Assert.True(get.GetProperty("blocklist-enabled").GetBoolean());
        Assert.Equal(_server.Url, get.GetProperty("blocklist-url").GetString());
        Assert.Equal(3, get.GetProperty("blocklist-size").GetInt32());
        Assert.True(_h.Engine.Blocklist.IsBlocked(IPAddress.Parse("127.0.0.2")));
        Assert.True(_h.Engine.Blocklist.IsBlocked(IPAddress.Parse("2001:db8::7")));
        // The malformed line is in the session log with its number.
        Assert.Contains(_h.Session.Log, e => e.Message.Contains("line 4:"));

        // A peer at a blocked address is refused (closed before its handshake) and counted in session-stats.
        Assert.Equal(0, (await _h.OkAsync("session-stats")).Arguments.GetProperty("blocklistBlocked").GetInt64());
        using (var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            peer.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await peer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _h.Engine.ListenPort));
            var buffer = new byte[68];
            try { Assert.Equal(0, await peer.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TransmissionHarness.Limit)); }
            catch (SocketException) { /* reset: refused all the same */ }
        }
        Assert.Equal(1, (await _h.OkAsync("session-stats")).Arguments.GetProperty("blocklistBlocked").GetInt64());

        // The server fails: an error result that says why, and the list in force stays.
        _server.Serve("nothing here", status: 404);
        var failed = await _h.CallAsync("blocklist-update");
        Assert.StartsWith("blocklist-update: downloading", failed.Result);
        Assert.Contains("HTTP 404", failed.Result);
        Assert.Equal(3, failed.Arguments.GetProperty("blocklist-size").GetInt32());
        Assert.True(_h.Engine.Blocklist.IsBlocked(IPAddress.Parse("198.51.100.1")));

        // Switched off through the RPC: nothing is blocked, the rules are kept.
        await _h.OkAsync("session-set", Args(("blocklist-enabled", false)));
        Assert.False(_h.Engine.Blocklist.IsBlocked(IPAddress.Parse("198.51.100.1")));
        Assert.Equal(3, (await _h.OkAsync("session-get")).Arguments.GetProperty("blocklist-size").GetInt32());
    }

    [Fact]
    public async Task A_bad_url_is_refused_with_the_reason_and_an_empty_one_clears_it()
    {
        var bad = await _h.CallAsync("session-set", Args(("blocklist-url", "ftp://example.com/list")));
        Assert.Equal("blocklist-url: must be an http:// or https:// address (or \"\" for none), not 'ftp://example.com/list'", bad.Result);
        Assert.Null(_h.Settings.Current.BlocklistUrl);
        var notString = await _h.CallAsync("session-set", Args(("blocklist-url", 5)));
        Assert.Contains("must be a string", notString.Result);

        await _h.OkAsync("session-set", Args(("blocklist-url", _server.Url)));
        Assert.Equal(_server.Url, _h.Settings.Current.BlocklistUrl);
        await _h.OkAsync("session-set", Args(("blocklist-url", "")));
        Assert.Null(_h.Settings.Current.BlocklistUrl);
        Assert.Null((await SettingsStore.LoadAsync(_h.SessionDir)).BlocklistUrl);
    }
}
