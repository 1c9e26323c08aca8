using System.IO.Compression;
using System.Net;
using System.Text;
using RTorrent.Engine.Blocklists;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Blocklists;

/// <summary>
/// The updater: downloads from a local HTTP server, keeps the copy for the next start, refreshes on the session's clock
/// (a fake one here), and keeps the list in force when a download or read fails.
/// </summary>
public sealed class BlocklistUpdaterTests : IAsyncLifetime
{
    private readonly string _dir = TestPaths.NewTempDir("rt-blocklist");
    private readonly ManualTimeProvider _time = new();
    private readonly LocalHttpServer _server = new();
    private readonly Blocklist _list = new();
    private readonly List<string> _warnings = [];
    private BlocklistUpdater _updater = null!;

    public Task InitializeAsync()
    {
        _updater = NewUpdater();
        return Task.CompletedTask;
    }

    private BlocklistUpdater NewUpdater() => new(_list, Path.Combine(_dir, "blocklists"), _time, null, m => { lock (_warnings) _warnings.Add(m); });

    public async Task DisposeAsync()
    {
        await _updater.DisposeAsync();
        await _server.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private BlocklistSources FromUrl(int hours = 24) => new() { Enabled = true, Url = _server.Url, RefreshInterval = TimeSpan.FromHours(hours) };

    [Fact]
    public async Task A_url_is_downloaded_when_switched_on_refreshed_on_schedule_and_read_from_its_copy_at_the_next_start()
    {
        _server.Serve("a:1.0.0.0-1.0.0.255\nb:2.0.0.0-2.0.0.255\n");
        await _updater.ApplyAsync(FromUrl());
        await TestWait.UntilAsync(() => _list.RuleCount == 2, "the first download");
        Assert.True(_list.IsBlocked(IPAddress.Parse("2.0.0.7")));
        Assert.Equal(1, _server.Requests);

        // 23 hours: nothing; 24: the list is downloaded again and the new one is in force.
        _server.Serve("c:3.0.0.0-3.0.0.255\n");
        int fired = _time.Fired;
        _time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(fired, _time.Fired); // counted inside Advance: the refresh timer did not come due
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(fired + 1, _time.Fired);
        await TestWait.UntilAsync(() => _list.RuleCount == 1, "the scheduled refresh");
        Assert.True(_list.IsBlocked(IPAddress.Parse("3.0.0.1")));
        Assert.False(_list.IsBlocked(IPAddress.Parse("2.0.0.7")));

        // A restart reads the kept copy: no download.
        await _updater.DisposeAsync();
        var list2 = new Blocklist();
        await using var restarted = new BlocklistUpdater(list2, Path.Combine(_dir, "blocklists"), _time);
        int before = _server.Requests;
        await restarted.ApplyAsync(FromUrl());
        Assert.Equal(1, list2.RuleCount);
        Assert.True(list2.IsBlocked(IPAddress.Parse("3.0.0.1")));
        Assert.Equal(before, _server.Requests);
    }

    [Fact]
    public async Task A_failed_download_keeps_the_list_in_force_and_says_why()
    {
        _server.Serve("1.2.3.0/24\n");
        await _updater.ApplyAsync(FromUrl(hours: 0));
        await TestWait.UntilAsync(() => _list.RuleCount == 1, "the first download (in the background)");
        Assert.Equal(1, await _updater.UpdateAsync());

        _server.Serve("gone", status: 500);
        var e = await Assert.ThrowsAsync<BlocklistUpdateException>(() => _updater.UpdateAsync());
        Assert.Contains("HTTP 500", e.Message);
        Assert.Equal(1, _list.RuleCount);
        Assert.Contains("HTTP 500", _updater.LastError);

        _server.Serve("<html><body>Not a list</body></html>\n");
        e = await Assert.ThrowsAsync<BlocklistUpdateException>(() => _updater.UpdateAsync());
        Assert.Contains("holds no blocklist rules", e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.True(_list.IsBlocked(IPAddress.Parse("1.2.3.4")));
        lock (_warnings) Assert.Contains(_warnings, w => w.Contains("the list in force stays"));

        // The scheduled refresh fails the same way without throwing anywhere.
        await _updater.ApplyAsync(FromUrl(hours: 1));
        _server.Serve("still down", status: 503);
        _time.Advance(TimeSpan.FromHours(1));
        await TestWait.UntilAsync(() => _updater.LastError?.Contains("HTTP 503") == true, "the scheduled attempt to fail");
        Assert.Equal(1, _list.RuleCount);
    }

    [Fact]
    public async Task A_gzipped_download_is_read()
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true)) z.Write(Encoding.UTF8.GetBytes("x:9.9.9.0-9.9.9.255\n2001:db8::/32\n"));
        _server.Serve(gz.ToArray());
        await _updater.ApplyAsync(FromUrl(hours: 0) with { Enabled = false });
        Assert.Equal(0, _server.Requests); // off: nothing downloaded until asked
        Assert.Equal(2, await _updater.UpdateAsync());
        Assert.False(_list.IsBlocked(IPAddress.Parse("9.9.9.9"))); // loaded, but off
        await _updater.ApplyAsync(FromUrl(hours: 0));
        Assert.True(_list.IsBlocked(IPAddress.Parse("9.9.9.9")));
        Assert.True(_list.IsBlocked(IPAddress.Parse("2001:db8::1")));
    }

    [Fact]
    public async Task A_local_file_is_read_and_its_malformed_lines_reported_by_number()
    {
        var file = Path.Combine(_dir, "list.p2p");
        await File.WriteAllTextAsync(file, "ok:5.5.5.0-5.5.5.255\nbroken line\nok2:6.6.6.6-6.6.6.6\n1.2.3.4/40\n");
        await _updater.ApplyAsync(new BlocklistSources { Enabled = true, File = file });
        Assert.Equal(2, _list.RuleCount);
        var report = Assert.Single(_updater.LastMalformed);
        Assert.Contains("2 malformed lines", report);
        Assert.Contains("line 2:", report);
        Assert.Contains("line 4:", report);

        // A file that went away: the list in force stays.
        File.Delete(file);
        var e = await Assert.ThrowsAsync<BlocklistUpdateException>(() => _updater.UpdateAsync());
        Assert.Contains(file, e.Message);
        Assert.Equal(2, _list.RuleCount);
    }

    [Fact]
    public async Task Update_without_a_source_is_a_clear_error()
    {
        await _updater.ApplyAsync(new BlocklistSources { Enabled = true });
        var e = await Assert.ThrowsAsync<BlocklistUpdateException>(() => _updater.UpdateAsync());
        Assert.Contains("no blocklist is set", e.Message);
    }
}
